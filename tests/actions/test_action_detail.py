"""action_answer_detail / action_go_back with a fake knowledge service."""

from __future__ import annotations

import pytest
from actions_fakes import FakeAnswer, slot_events

from actions import render
from actions.detail import ActionAnswerDetail, ActionGoBack, specific_part
from actions.named import MIN_SPECIFIC_CHARS
from actions.places import resolve_place, town_office
from knowledge.models import Condition, Online, Phones, Place, Provenance, Region, Theme


def _rural_building() -> Theme:
    return Theme(
        code="43TC2000100Y",
        title="农村建房一件事",
        provenance=Provenance.county,
        region=Region(name="塘渡口镇", is_county_own=True, caveat="以下为塘渡口镇的办事指南"),
        phones=Phones(consult="0739-6015921"),
        places=[
            Place(
                name="湖南省邵阳市邵阳县塘渡口镇人民政府",
                address="湖南省邵阳市邵阳县塘渡口镇人民政府自然资源和村镇建设事务中心",
                hours="法定工作日：上午08：00-12：00,下午13：30-17：00",
            )
        ],
        online=Online(status="无"),
        conditions=[Condition(text="申请人是本村集体经济组织成员。其他略")],
        process="提出建房申请 --> 村民小组会议讨论 --> 领证",
    )


@pytest.fixture
def service(fake_service, themes):
    birth = themes["43PCN0009"].model_copy(
        update={
            "places": [
                Place(
                    name="湖南省邵阳市邵阳县各助产机构",
                    address="湖南省邵阳市邵阳县人民医院、中医院医院、妇幼保健院",
                    hours="法定工作日：上午09：00-12：00",
                )
            ],
            "process": "受理-审核-办结",
        }
    )
    fake_service.themes.update({birth.code: birth, "43TC2000100Y": _rural_building()})
    return fake_service


def _matches(service) -> list[str]:
    return [q for kind, q in service.calls if kind == "resolve"]


@pytest.mark.parametrize(
    ("intent", "text", "expected"),
    [
        ("ask_time_limit", "要好久", "办理时限：承诺5个工作日（以官网为准）"),
        ("ask_fee", "收费吗", "收费：不收费"),
        ("ask_place", "在哪里办", "地址：邵阳县人民医院、中医院医院、妇幼保健院"),
        ("ask_hours", "几点上班", "邵阳县各助产机构：法定工作日：上午09：00-12：00"),
        ("ask_online", "能不能网上办", "可以网上办：可全程网办（湖南政务服务网、湘易办APP）"),
        ("ask_department", "找哪个部门", "牵头部门：邵阳县卫生健康局"),
        ("ask_phone", "电话多少", "投诉监督电话：0739-12345"),
        ("ask_process", "流程是怎样的", "1. 受理\n2. 审核\n3. 办结"),
    ],
)
async def test_each_detail_of_the_current_thing(service, dispatcher, make_tracker, intent, text, expected):
    tracker = make_tracker(text, intent=intent, slots={"current_thing": "43PCN0009"})

    events = await ActionAnswerDetail().run(dispatcher, tracker, {})

    assert events == []
    assert _matches(service) == []  # a generic question never goes to the matcher
    [message] = dispatcher.messages
    body = message["text"]
    assert body.startswith("新生儿出生一件事")
    assert expected in body
    assert "咨询电话：0739-6810891" in body  # every detail answer gives the phone
    assert "\n\n" not in body


async def test_online_channel_is_added_to_other_details(service, dispatcher, make_tracker):
    tracker = make_tracker("要多久", intent="ask_time_limit", slots={"current_thing": "43PCN0009"})
    await ActionAnswerDetail().run(dispatcher, tracker, {})
    assert "网上办理：可全程网办" in dispatcher.messages[0]["text"]


async def test_no_online_channel_is_said_plainly(service, dispatcher, make_tracker):
    tracker = make_tracker("手机上能办吗", intent="ask_online", slots={"current_thing": "43TC2000100Y"})
    await ActionAnswerDetail().run(dispatcher, tracker, {})
    body = dispatcher.messages[0]["text"]
    assert "暂时不能在网上办" in body
    assert "网上办理：" not in body


async def test_conditions_are_listed_and_shortened(service, dispatcher, make_tracker):
    tracker = make_tracker("要么子条件", intent="ask_conditions", slots={"current_thing": "43TC2000100Y"})
    await ActionAnswerDetail().run(dispatcher, tracker, {})
    assert "1. 申请人是本村集体经济组织成员\n" in dispatcher.messages[0]["text"]


async def test_asks_which_thing_when_none_is_known(service, dispatcher, make_tracker):
    events = await ActionAnswerDetail().run(dispatcher, make_tracker("要几多钱", intent="ask_fee"), {})
    assert events == []
    body = dispatcher.messages[0]["text"]
    assert "您问的是哪件事" in body and "收不收费" in body


async def test_phone_without_a_thing_gives_the_hotline(service, dispatcher, make_tracker):
    await ActionAnswerDetail().run(dispatcher, make_tracker("电话多少", intent="ask_phone"), {})
    assert "0739-12345" in dispatcher.messages[0]["text"]


async def test_a_thing_named_in_the_question_switches(service, dispatcher, make_tracker):
    text = "农村建房要好久"
    service.answers["农村建房"] = FakeAnswer("sure", [service.hit("43TC2000100Y")])
    tracker = make_tracker(text, intent="ask_time_limit", slots={"current_thing": "43PCN0009"})

    events = await ActionAnswerDetail().run(dispatcher, tracker, {})

    # the whole message first, then its specific part
    assert _matches(service) == [text, "农村建房"]
    assert slot_events(events) == {"current_thing": "43TC2000100Y", "previous_thing": "43PCN0009"}
    assert dispatcher.messages[0]["text"].startswith("农村建房一件事")


async def test_unsure_match_keeps_the_current_thing(service, dispatcher, make_tracker):
    text = "屋里那个事要好久"
    service.answers[text] = FakeAnswer("ambiguous", [service.hit("43PCP0004", 0.4)])
    tracker = make_tracker(text, intent="ask_time_limit", slots={"current_thing": "43PCN0009"})
    events = await ActionAnswerDetail().run(dispatcher, tracker, {})
    assert events == []
    assert dispatcher.messages[0]["text"].startswith("新生儿出生一件事")


async def test_town_names_are_not_sent_to_the_matcher(service, dispatcher, make_tracker):
    for text in ("我是九公桥的，要到哪里去办", "我住白仓镇，在哪里办", "他们几点钟上班", "要满足么子条件"):
        assert len(specific_part(text)) < MIN_SPECIFIC_CHARS, text
    assert specific_part("退休要好久") == "退休"
    assert specific_part("公租房申请要什么条件") == "公租房"


async def test_other_township_goes_to_its_own_office(service, dispatcher, make_tracker):
    tracker = make_tracker(
        "我住白仓，在哪里办",
        intent="ask_place",
        entities=[{"entity": "town", "value": "白仓镇"}],
        slots={"current_thing": "43TC2000100Y"},
    )
    await ActionAnswerDetail().run(dispatcher, tracker, {})
    body = dispatcher.messages[0]["text"]
    assert "您在白仓镇，请到白仓镇人民政府便民服务中心办理（以塘渡口镇的指南为参照，具体请先电话确认）" in body
    assert "0739-6015921" in body
    assert "自然资源和村镇建设事务中心" not in body  # 塘渡口镇's address is not given as 白仓镇's


async def test_published_township_gets_the_published_address(service, dispatcher, make_tracker):
    tracker = make_tracker(
        "在哪里办", intent="ask_place", slots={"current_thing": "43TC2000100Y", "town": "塘渡口镇"}
    )
    await ActionAnswerDetail().run(dispatcher, tracker, {})
    body = dispatcher.messages[0]["text"]
    assert "地址：邵阳县塘渡口镇人民政府自然资源和村镇建设事务中心" in body
    assert "时间：法定工作日：上午08：00-12：00" in body


async def test_township_matter_without_town_asks_where_they_live(service, dispatcher, make_tracker):
    tracker = make_tracker("在哪里办", intent="ask_place", slots={"current_thing": "43TC2000100Y"})
    await ActionAnswerDetail().run(dispatcher, tracker, {})
    body = dispatcher.messages[0]["text"]
    assert "官网上是塘渡口镇的指南" in body and "您住哪个乡镇" in body


async def test_inform_town_answers_the_place_of_the_current_thing(service, dispatcher, make_tracker):
    tracker = make_tracker(
        "我是黄荆乡的",
        intent="inform_town",
        entities=[{"entity": "town", "value": "黄荆乡"}],
        slots={"current_thing": "43TC2000100Y"},
    )
    await ActionAnswerDetail().run(dispatcher, tracker, {})
    assert "请到黄荆乡人民政府便民服务中心办理" in dispatcher.messages[0]["text"]


async def test_inform_town_without_a_thing_is_noted(service, dispatcher, make_tracker):
    tracker = make_tracker("我住长乐乡", intent="inform_town", entities=[{"entity": "town", "value": "长乐乡"}])
    events = await ActionAnswerDetail().run(dispatcher, tracker, {})
    assert events == []
    assert "记下了，您在长乐乡" in dispatcher.messages[0]["text"]


def test_county_level_place_with_a_town(themes):
    birth = themes["43PCN0009"].model_copy(
        update={"places": [Place(name="邵阳县政务服务中心", address="邵阳县红石科技园24栋")]}
    )
    place = resolve_place(birth, "白仓镇")
    assert place.kind == "listed" and place.county_seat_trip
    body = render.render_detail(birth, "place", "白仓镇")
    assert "您在白仓镇，按官方指南，这件事到下面的地方办" in body
    assert "地址：邵阳县红石科技园24栋" in body


def test_no_published_place_falls_back_to_the_county_centre(themes):
    body = render.render_detail(themes["43PCN0009"], "place")
    assert "官网没有写具体的办理地点" in body and "邵阳县红石科技园24栋" in body


def test_farm_office_name():
    assert town_office("七里山园艺场") == "七里山园艺场便民服务中心"
    assert town_office("长乐乡") == "长乐乡人民政府便民服务中心"


async def test_go_back_swaps_current_and_previous(service, dispatcher, make_tracker):
    tracker = make_tracker(
        "回到刚才那个",
        intent="go_back",
        slots={"current_thing": "43TC2000100Y", "previous_thing": "43PCN0009"},
    )
    events = await ActionGoBack().run(dispatcher, tracker, {})
    assert slot_events(events) == {"current_thing": "43PCN0009", "previous_thing": "43TC2000100Y"}
    body = dispatcher.messages[0]["text"]
    assert body.startswith("好的，我们回到刚才那件事：新生儿出生一件事")
    assert "办理时限：承诺5个工作日" in body and "咨询电话：0739-6810891" in body


async def test_go_back_with_nothing_before(service, dispatcher, make_tracker):
    tracker = make_tracker("刚才那个", intent="go_back", slots={"current_thing": "43PCN0009"})
    events = await ActionGoBack().run(dispatcher, tracker, {})
    assert events == []
    assert "前面还没有聊过别的事" in dispatcher.messages[0]["text"]


async def test_service_failure_is_polite(service, dispatcher, make_tracker):
    service.fail = True
    tracker = make_tracker("要多久", intent="ask_time_limit", slots={"current_thing": "43PCN0009"})
    events = await ActionAnswerDetail().run(dispatcher, tracker, {})
    assert slot_events(events) == {"match_verdict": "no_match"}
    assert "系统有点忙" in dispatcher.messages[0]["text"]
