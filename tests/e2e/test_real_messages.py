"""Real, messy messages through the real stack's /api/chat (issue 13): a long story with a real
request in it gets that one thing's guide; a long complaint is recorded and pointed to 12345 (not
the 办不成事 form, not a one thing); a suggestion is thanked; a plain policy question is told
honestly; masked digits are no phone number; the issue's named-thing message gets its guide."""

from __future__ import annotations

import pytest
import redis
from e2e_helpers import say

from records import case_store

pytestmark = pytest.mark.e2e

FORM_OPENED = "我帮您把没办成的事登记下来"

STORY = (
    "领导您好，我是塘渡口镇的，屋里情况有点复杂我讲一下。我堂客上个月在县人民医院生了个伢子，"
    "顺产，母子平安，出院的时候医院给了出生医学证明。我们两个都是农村户口，我在广东打工，"
    "过完年又要出去，时间紧。伢子还冇上户口，医保也冇办，听别个讲现在可以一次办好几样。"
    "请问我回来一趟，要带么子材料去哪里办，能不能一次搞定？"
)
COMPLAINT = (
    "我们小区的物业公司乱收费，停车费一年涨了两次，电梯坏了半个月也不修，业主打电话投诉也没人理，"
    "物业经理还讲不交钱就锁车，这个事到底哪个部门管？我们一百多户业主都很气愤，请领导督促一下。"
)
SUGGESTION = (
    "建议火车经过我们村的时候晚上不要鸣笛，太吵了，老人小孩都睡不着。铁路边上住了几十户人家，"
    "能不能在村口装个隔音墙，或者晚上十点以后减速不鸣笛，谢谢领导。"
)


@pytest.fixture
def app_redis(stack):
    client = redis.Redis.from_url(stack.config.redis_url, decode_responses=True)
    yield client
    client.close()


def test_a_long_story_with_a_request_gets_its_guide(gateway) -> None:
    _, text = say(gateway, "e2e-real-story", STORY)
    assert "您要办的是：新生儿出生一件事" in text, text
    assert FORM_OPENED not in text


def test_a_long_complaint_is_recorded_and_pointed_to_12345(gateway, app_redis) -> None:
    sender = "e2e-real-complaint"
    replies, text = say(gateway, sender, COMPLAINT)
    assert "您反映的情况我明白了" in text and "0739-12345" in text, text
    assert "您要办的是" not in text and FORM_OPENED not in text
    [case] = [c for c in (case_store.get_case(app_redis, i) for i in case_store.case_ids(app_redis)) if c.sender == sender]
    assert case.kind.value == "complaint" and case.text == COMPLAINT and f"编号 {case.id}" in text
    assert "/ask_human" in [b["payload"] for r in replies for b in r.get("buttons") or []]


def test_a_suggestion_is_thanked(gateway) -> None:
    _, text = say(gateway, "e2e-real-suggestion", SUGGESTION)
    assert "谢谢您的建议" in text and "0739-12345" in text, text
    assert "您要办的是" not in text


def test_a_plain_policy_question_is_answered_honestly(gateway) -> None:
    _, text = say(gateway, "e2e-real-question", "我想问一下某某村有没有拆迁改造计划")
    assert "政策方面的事" in text and "0739-12345" in text, text


def test_masked_digits_are_no_phone_number(gateway) -> None:
    _, text = say(gateway, "e2e-real-phone", "我电话138****5678")
    assert "记下您的电话" not in text, text


def test_naming_the_one_thing_gets_its_guide(gateway) -> None:
    message = "我堂客在医院生了，她还冇出院，我当爸爸的去办新生儿出生一件事要带什么"
    _, text = say(gateway, "e2e-real-named", message)
    assert "新生儿出生一件事" in text and "您想办哪件事" not in text, text
