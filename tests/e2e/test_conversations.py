"""Ten whole conversations through POST /api/chat against the real stack.

Each conversation is a short script in colloquial / Xiang-dialect Chinese with its own sender. The
answers are checked against the official guides (``official_guide``: titles, required materials,
consultation phones, time limits, departments, places, online handling), not against copied strings,
and what the assistant files (cases, ratings, handoff tickets) is checked in Redis.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache

import httpx
import pytest
import redis
from e2e_helpers import DATA, official_guide, say

from records import case_store as case_store
from records import tickets as handoff_store
from records.case_model import CaseKind

pytestmark = pytest.mark.e2e

BIRTH, RETIRE, DEATH, RESTAURANT = "43PCN0009", "43PCN0013", "43PCP0008", "43TCN0003"
DISABILITY, RURAL_HOUSE, APPLIANCES, CARS = "43PCN0012", "43TC2000100Y", "43PCP0011", "43PCP0012"
HOTLINE = "12345"

Conversation = Callable[[httpx.Client, str, redis.Redis], None]


# --- what the official guides say --------------------------------------------------------------


@cache
def official_titles() -> dict[str, str]:
    """Theme code -> the official theme name (the portal's theme list, themes.json)."""
    themes = json.loads((DATA / "themes.json").read_text(encoding="utf-8"))["themes"]
    return {t["id"]: t["name"] for t in themes}


def title(code: str) -> str:
    return official_titles()[code]


def phone(code: str) -> str:
    return official_guide(code)["basicInfo"]["zxdh"]


def required_materials(code: str) -> list[str]:
    return [m["clmc"].strip() for m in official_guide(code)["materialList"] if m["clbyx"] == "1"]


def time_limit(code: str) -> str:
    return f"{official_guide(code)['basicInfo']['completedLimit']}个工作日"


def lead_department(code: str) -> str:
    return official_guide(code)["basicInfo"]["qtbmmc"]


def cooperating_departments(code: str) -> list[str]:
    return [d for d in official_guide(code)["basicInfo"]["cooperateName"].split(",") if d]


def place_addresses(code: str) -> list[str]:
    return [p["xxdz"] for p in official_guide(code).get("guidePoint") or [] if p.get("xxdz")]


def charges(code: str) -> bool:
    return official_guide(code)["basicInfo"]["isCharge"] == "1"


def online_note(code: str) -> str | None:
    """The official online-handling note, None when the guide says there is none (无 / 暂无)."""
    note = (official_guide(code)["basicInfo"].get("reasonLink") or "").strip()
    return None if note in ("", "无", "暂无") else note


def all_titles() -> list[str]:
    return list(official_titles().values())


# --- checks ------------------------------------------------------------------------------------


def assert_theme(text: str, code: str) -> None:
    assert title(code) in text, (title(code), text)


def assert_all_required_materials(text: str, code: str) -> None:
    missing = [m for m in required_materials(code) if m not in text]
    assert not missing, (missing, text)


def buttons(messages: list[dict]) -> list[dict]:
    return [b for m in messages for b in m.get("buttons") or []]


def payload_of(messages: list[dict], predicate: Callable[[dict], bool]) -> str:
    matching = [b["payload"] for b in buttons(messages) if predicate(b)]
    assert matching, buttons(messages)
    return matching[0]


# --- the ten conversations ---------------------------------------------------------------------


def newborn(gateway: httpx.Client, sender: str, _: redis.Redis) -> None:
    _, text = say(gateway, sender, "你好")
    assert text.strip()
    _, text = say(gateway, sender, "我堂客昨天在县妇幼保健院生了个伢子，要办么子手续")
    assert_theme(text, BIRTH)
    assert_all_required_materials(text, BIRTH)
    _, text = say(gateway, sender, "那要带么子材料咯")
    assert_theme(text, BIRTH)
    assert_all_required_materials(text, BIRTH)
    _, text = say(gateway, sender, "要多久才办得好")
    assert_theme(text, BIRTH)
    assert time_limit(BIRTH) in text, text
    _, text = say(gateway, sender, "电话多少")
    assert_theme(text, BIRTH)
    assert phone(BIRTH) in text, text


def retirement(gateway: httpx.Client, sender: str, _: redis.Redis) -> None:
    _, text = say(gateway, sender, "我老倌子今年满60岁了，要办退休")
    assert_theme(text, RETIRE)
    assert time_limit(RETIRE) in text and phone(RETIRE) in text, text
    _, text = say(gateway, sender, "办这个收费吗")
    assert_theme(text, RETIRE)
    assert not charges(RETIRE)
    assert "不收费" in text, text
    _, text = say(gateway, sender, "在哪里办咯")
    assert_theme(text, RETIRE)
    addresses = place_addresses(RETIRE)
    assert addresses and all(a in text for a in addresses), (addresses, text)


def death_then_rating(gateway: httpx.Client, sender: str, client: redis.Redis) -> None:
    _, text = say(gateway, sender, "屋里娭毑前天过世哒，后事要办么子手续")
    assert_theme(text, DEATH)
    assert phone(DEATH) in text and lead_department(DEATH) in text, text
    _, text = say(gateway, sender, "要带些么子材料")
    assert_theme(text, DEATH)
    assert_all_required_materials(text, DEATH)
    messages, _ = say(gateway, sender, "好，晓得了，拜拜")
    best = payload_of(messages, lambda b: b["title"] == "非常满意")
    assert {b["title"] for b in buttons(messages)} >= {"满意", "一般", "不满意"}
    _, text = say(gateway, sender, best)
    assert "非常满意" in text, text
    [rating] = [r for r in case_store.list_ratings(client) if r.sender == sender]
    assert (rating.level, rating.theme) == (5, DEATH)


def rice_noodle_shop(gateway: httpx.Client, sender: str, _: redis.Redis) -> None:
    _, text = say(gateway, sender, "我想在县城开个米粉店，要办么子")
    assert_theme(text, RESTAURANT)
    assert_all_required_materials(text, RESTAURANT)
    _, text = say(gateway, sender, "能不能在网上办")
    assert_theme(text, RESTAURANT)
    note = online_note(RESTAURANT)
    if note is None:  # the guide names no online handling: the assistant must not invent one
        assert "不能在网上办" in text, text
    else:
        assert note in text, text
    _, text = say(gateway, sender, "要多久")
    assert time_limit(RESTAURANT) in text and phone(RESTAURANT) in text, text


def disability_card(gateway: httpx.Client, sender: str, _: redis.Redis) -> None:
    _, text = say(gateway, sender, "我崽是残疾人，想办个残疾证")
    assert_theme(text, DISABILITY)
    _, text = say(gateway, sender, "找哪个部门")
    assert_theme(text, DISABILITY)
    assert lead_department(DISABILITY) in text, text
    assert all(d in text for d in cooperating_departments(DISABILITY)), text
    _, text = say(gateway, sender, "电话多少")
    assert phone(DISABILITY) in text and HOTLINE in text, text


def switch_and_come_back(gateway: httpx.Client, sender: str, _: redis.Redis) -> None:
    _, text = say(gateway, sender, "我老倌子要办退休")
    assert_theme(text, RETIRE)
    _, text = say(gateway, sender, "不是这个，我屋里伢子刚生，要上户口")
    assert_theme(text, BIRTH)
    assert title(RETIRE) not in text
    _, text = say(gateway, sender, "要多久")
    assert_theme(text, BIRTH)
    assert time_limit(BIRTH) in text, text
    _, text = say(gateway, sender, "回到刚才那个")
    assert_theme(text, RETIRE)
    assert title(BIRTH) not in text
    _, text = say(gateway, sender, "电话多少")
    assert_theme(text, RETIRE)
    assert phone(RETIRE) in text and phone(BIRTH) not in text, text


def rural_house_in_baicang(gateway: httpx.Client, sender: str, _: redis.Redis) -> None:
    _, text = say(gateway, sender, "我想在农村老家建房子")
    assert_theme(text, RURAL_HOUSE)
    assert_all_required_materials(text, RURAL_HOUSE)
    _, text = say(gateway, sender, "我住白仓镇")
    assert "白仓镇" in text, text
    _, text = say(gateway, sender, "在哪里办")
    assert_theme(text, RURAL_HOUSE)
    # The published guide is 塘渡口镇's: someone in 白仓镇 goes to their own township office,
    # and gets the guide's phone, not 塘渡口镇's address.
    assert "白仓镇人民政府便民服务中心" in text, text
    assert phone(RURAL_HOUSE) in text, text
    assert not any(a in text for a in place_addresses(RURAL_HOUSE)), text


def ambiguous_then_button(gateway: httpx.Client, sender: str, _: redis.Redis) -> None:
    messages, text = say(gateway, sender, "我想申请以旧换新补贴")
    offered = {b["payload"] for b in buttons(messages)}
    assert any(APPLIANCES in p for p in offered) and any(CARS in p for p in offered), messages
    assert phone(APPLIANCES) not in text  # a question, not an answer yet
    choice = payload_of(messages, lambda b: APPLIANCES in b["payload"])
    _, text = say(gateway, sender, choice)
    assert_theme(text, APPLIANCES)
    assert title(CARS) not in text
    assert phone(APPLIANCES) in text, text


def off_topic_then_complaint(gateway: httpx.Client, sender: str, client: redis.Redis) -> None:
    messages, text = say(gateway, sender, "今天天气哪么样，明天会落雨不")
    assert text.strip()
    assert not any(t in text for t in all_titles()), text
    assert not buttons(messages)
    _, text = say(gateway, sender, "窗口那个人态度好差，我要投诉")
    assert HOTLINE in text, text
    [case] = [c for c in case_store.list_cases(client, CaseKind.complaint) if c.sender == sender]
    assert case.id in text, text
    assert "态度好差" in (case.text or "")


def bancheng_to_case_number(gateway: httpx.Client, sender: str, client: redis.Redis) -> None:
    story = "去了三趟，每次都说材料不对，又不讲清楚缺么子"
    _, text = say(gateway, sender, "跑了好几趟都没办成")
    assert "哪件事" in text, text
    say(gateway, sender, "小孩上户口")
    say(gateway, sender, "县政务服务中心")
    messages, _ = say(gateway, sender, story)
    say(gateway, sender, payload_of(messages, lambda b: b["title"] == "可以"))
    _, text = say(gateway, sender, "13812345678")
    found = re.search(r"BC\d{8}-\d{4}", text)
    assert found, text
    case = case_store.get_case(client, found.group(0))
    assert case is not None and case.sender == sender
    assert (case.matter, case.place, case.story) == ("小孩上户口", "县政务服务中心", story)
    assert case.contact_consent and case.contact == "13812345678"
    assert HOTLINE in text


CONVERSATIONS: dict[str, Conversation] = {
    "newborn": newborn,
    "retirement": retirement,
    "death-then-rating": death_then_rating,
    "rice-noodle-shop": rice_noodle_shop,
    "disability-card": disability_card,
    "switch-and-come-back": switch_and_come_back,
    "rural-house-baicang": rural_house_in_baicang,
    "ambiguous-then-button": ambiguous_then_button,
    "off-topic-then-complaint": off_topic_then_complaint,
    "bancheng-to-case-number": bancheng_to_case_number,
}


@pytest.fixture
def app_redis(stack):
    client = redis.Redis.from_url(stack.config.redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.mark.parametrize("name", list(CONVERSATIONS))
def test_conversation(gateway: httpx.Client, app_redis: redis.Redis, name: str) -> None:
    CONVERSATIONS[name](gateway, f"e2e-conv-{name}", app_redis)


def test_asking_for_staff_in_the_middle_of_the_bancheng_form_hands_off(gateway, app_redis) -> None:
    sender = "e2e-conv-form-handoff"
    say(gateway, sender, "办不成事")
    _, text = say(gateway, sender, "办退休")
    assert "在哪里办" in text, text
    messages, text = say(gateway, sender, "转人工")
    assert {b["payload"] for b in buttons(messages)} >= {"/affirm", "/deny"}, messages
    assert not [c for c in case_store.list_cases(app_redis, CaseKind.bancheng) if c.sender == sender]
    _, text = say(gateway, sender, "同意")
    assert "工作人员会在这里直接回复您" in text, text
    ticket = handoff_store.ticket_for_sender_sync(app_redis, sender)
    assert ticket is not None and ticket.consent
    assert ticket.why == "转人工"


def test_checklist_which_matter_then_a_typed_option_then_a_new_matter(gateway, app_redis) -> None:
    sender = "e2e-conv-checklist-typed"
    _, text = say(gateway, sender, "给我一张清单")
    assert "哪" in text, text  # which matter?
    messages, text = say(gateway, sender, "我要办残疾证")
    assert official_titles()[DISABILITY] in text or buttons(messages), text  # the checklist starts
    titles = [b["title"] for b in buttons(messages) if b["title"] != "不晓得，跳过"]
    assert titles, messages
    # A typed option, whatever NLU makes of it, answers the question: no "没听明白", no new matter.
    _, text = say(gateway, sender, titles[0])
    assert "没听明白" not in text and "您要办的是" not in text, text
    # A new matter in the middle of the checklist is answered as a new matter.
    _, text = say(gateway, sender, "我想开个米粉店，要办么子")
    assert official_titles()[RESTAURANT] in text, text


def test_an_official_name_and_who_applies_are_understood(gateway, app_redis) -> None:
    sender = "e2e-conv-entities"
    # The official name (entity `thing`) is the matter: the whole guide, its phone included.
    _, text = say(gateway, sender, "我要办新生儿出生一件事")
    assert text.startswith(f"您要办的是：{title(BIRTH)}"), text
    assert phone(BIRTH) in text, text
    # "孩子他爸去办" (entity `applicant_role`) answers "这次由谁来办？" before it is asked.
    messages, text = say(gateway, sender, "孩子他爸去办，帮我列个清单")
    assert "您说由爸爸来办" in text and "这次由谁来办" not in text, text
    assert "民族" in text and buttons(messages), text  # the next question that changes the list
    # An answer can be changed once the list is shown: the list follows the new answer.
    _, text = say(gateway, sender, "民族不一样")
    assert "授权委托书" in text.split("要准备的材料")[1].split("不用准备")[0], text  # the father applies
    _, text = say(gateway, sender, "不对，是孩子他妈来办")
    assert text.startswith("好的，改成“妈妈”了。"), text
    assert "授权委托书" in text.split("您这次不用准备")[1], text
    # A bare 不对 says how to change an answer; a yes/no answer changes by its own words.
    _, text = say(gateway, sender, "不对")
    assert text.startswith("好的，哪一条要改？") and "改成" in text, text
    _, text = say(gateway, sender, "改成是同一个民族")
    assert text.startswith("好的，改成“是同一个民族”了。"), text
    assert "民族成份申请" in text.split("您这次不用准备")[1], text


def test_a_town_said_with_the_matter_does_not_blur_it_and_a_likely_match_is_asked(gateway, app_redis) -> None:
    sender = "e2e-conv-guess"
    # The town is left out of the search; what is left is likely, not sure: one question.
    messages, text = say(gateway, sender, "我是五峰铺的，想做个房子")
    assert text.startswith(f"您是想办【{title(RURAL_HOUSE)}】吗？"), text
    assert [b["title"] for b in buttons(messages)] == [title(RURAL_HOUSE), "都不是"], messages
    # "是的" takes the one candidate offered.
    _, text = say(gateway, sender, "是的")
    assert text.startswith(f"您要办的是：{title(RURAL_HOUSE)}"), text
    # The town said in the first message is remembered: the answer names its own office.
    _, text = say(gateway, sender, "在哪里办")
    assert "您在五峰铺镇，请到五峰铺镇人民政府便民服务中心办理" in text, text


def test_two_needs_in_one_message_are_both_reached(gateway, app_redis) -> None:
    sender = "e2e-conv-two-needs"
    subsidy = "43PCP0022"
    messages, text = say(gateway, sender, "我堂客刚生了伢子，要上户口，还要领育儿补贴")
    assert messages[0]["text"].startswith(f"您要办的是：{title(BIRTH)}"), text
    assert phone(BIRTH) in messages[0]["text"], text
    assert f"您还说到了【{title(subsidy)}】" in messages[-1]["text"], text
    # The second matter's button gives its own guide, with its own phone.
    payload = payload_of(messages, lambda b: b["title"] == title(subsidy))
    _, text = say(gateway, sender, payload)
    assert text.startswith(f"您要办的是：{title(subsidy)}") and phone(subsidy) in text, text
    # Both at once: one merged checklist.
    _, text = say(gateway, sender, "两件一起列清单")
    assert title(BIRTH) in text and title(subsidy) in text, text


def test_a_bancheng_report_that_names_the_matter_and_town_is_not_asked_them_again(gateway, app_redis) -> None:
    sender = "e2e-conv-bancheng-prefilled"
    story = "每次都说少个证明，又不讲清楚是么子证明"
    messages, text = say(gateway, sender, "我上个月在五峰铺办残疾证，跑了三趟都冇办成")
    assert f"没办成的【{title(DISABILITY)}】登记下来" in text, text
    assert "哪件事" not in text and "在哪里办的" not in text, text
    assert "发生了么子事" in text, text  # straight to what happened
    messages, _ = say(gateway, sender, story)
    _, text = say(gateway, sender, payload_of(messages, lambda b: b["title"] != "可以"))  # no phone
    found = re.search(r"BC\d{8}-\d{4}", text)
    assert found, text
    case = case_store.get_case(app_redis, found.group(0))
    assert case is not None and (case.matter, case.place, case.story) == (title(DISABILITY), "五峰铺镇", story)
    assert not case.contact_consent and case.contact is None
