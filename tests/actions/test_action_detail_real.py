"""action_answer_detail / action_go_back against the real knowledge service (no fakes)."""

from __future__ import annotations

from actions_fakes import slot_events

from actions.detail import ActionAnswerDetail, ActionGoBack
from actions.find_thing import ActionFindThing, ActionPersonGroup


async def _detail(dispatcher, make_tracker, text, intent, **slots) -> tuple[str, dict]:
    dispatcher.messages.clear()
    events = await ActionAnswerDetail().run(dispatcher, make_tracker(text, intent=intent, slots=slots), {})
    return dispatcher.messages[-1]["text"], slot_events(events)


async def test_birth_details(use_real, dispatcher, make_tracker):
    theme = use_real.get("43PCN0009")
    body, _ = await _detail(dispatcher, make_tracker, "电话多少", "ask_phone", current_thing=theme.code)
    assert "咨询电话：0739-6810891" in body
    body, _ = await _detail(dispatcher, make_tracker, "要好久", "ask_time_limit", current_thing=theme.code)
    assert "承诺5个工作日" in body
    assert "网上办理：" in body and theme.online.channels[0] in body
    body, _ = await _detail(dispatcher, make_tracker, "在哪里办", "ask_place", current_thing=theme.code)
    assert "助产机构" in body and "县人民医院" in body
    assert theme.places[0].hours and theme.places[0].hours in body


async def test_rural_building_in_another_township(use_real, dispatcher, make_tracker):
    theme = use_real.get("43TC2000100Y")
    body, _ = await _detail(
        dispatcher, make_tracker, "在哪里办", "ask_place", current_thing=theme.code, town="白仓镇"
    )
    assert "白仓镇人民政府便民服务中心" in body and "以塘渡口镇的指南为参照" in body
    assert theme.phones.consult in body
    body, _ = await _detail(
        dispatcher, make_tracker, "在哪里办", "ask_place", current_thing=theme.code, town="塘渡口镇"
    )
    assert "自然资源和村镇建设事务中心" in body


async def test_county_centre_matter(use_real, dispatcher, make_tracker):
    body, _ = await _detail(dispatcher, make_tracker, "去哪里办", "ask_place", current_thing="43PCN0013")
    assert "红石科技园24栋" in body


async def test_switch_by_naming_then_come_back(use_real, dispatcher, make_tracker):
    events = await ActionFindThing().run(dispatcher, make_tracker("我堂客生了个伢子，要上户口"), {})
    assert slot_events(events)["current_thing"] == "43PCN0009"
    body, slots = await _detail(
        dispatcher, make_tracker, "办退休要多久", "ask_time_limit", current_thing="43PCN0009"
    )
    assert slots == {"current_thing": "43PCN0013", "previous_thing": "43PCN0009"}
    assert body.startswith(use_real.get("43PCN0013").title)

    dispatcher.messages.clear()
    tracker = make_tracker("回到刚才那个", intent="go_back", slots=slots)
    events = await ActionGoBack().run(dispatcher, tracker, {})
    assert slot_events(events) == {"current_thing": "43PCN0009", "previous_thing": "43PCN0013"}
    assert "新生儿出生" in dispatcher.messages[0]["text"]


async def test_every_theme_answers_every_detail(use_real, dispatcher, make_tracker):
    from actions.detail import DETAIL_BY_INTENT

    for theme in use_real.themes():
        for intent in DETAIL_BY_INTENT:
            body, slots = await _detail(dispatcher, make_tracker, "那个呢", intent, current_thing=theme.code, town="白仓镇")
            assert slots == {}
            assert body.startswith(theme.title) and "\n\n" not in body, (theme.code, intent)
            assert (theme.phones.consult or "0739-12345") in body


async def test_a_second_matter_added_with_also_gets_a_note_and_a_button(use_real, dispatcher, make_tracker):
    text = "我堂客刚生了伢子，要上户口，还要领育儿补贴"
    events = await ActionFindThing().run(dispatcher, make_tracker(text, slots={"current_thing": "43PCN0013"}), {})
    assert slot_events(events) == {
        "current_thing": "43PCN0009",
        "previous_thing": "43PCP0022",  # the second matter, not the old current one
        "match_verdict": "sure",
    }
    guide, note = dispatcher.messages
    assert guide["text"].startswith("您要办的是：新生儿出生一件事")
    assert note["text"].startswith("您还说到了【育儿补贴申领“一件事”】") and "两件一起列清单" in note["text"]
    assert note["buttons"] == [{"title": "育儿补贴申领“一件事”", "payload": '/choose_thing{"thing_code":"43PCP0022"}'}]


async def test_one_matter_told_in_several_parts_gets_no_note(use_real, dispatcher, make_tracker):
    for text in ("我堂客生了个伢子，要上户口，还要办医保", "老人过世了，还要办丧葬补助", "我要办退休"):
        dispatcher.messages.clear()
        events = await ActionFindThing().run(dispatcher, make_tracker(text), {})
        assert "previous_thing" not in slot_events(events), text
        assert len(dispatcher.messages) == 1, text


ELDERLY = [{"entity": "person_group", "value": "老年人", "start": 0, "end": 6}]


async def test_a_person_group_with_a_matter_gets_the_guide_then_the_green_channel(use_real, dispatcher, make_tracker):
    tracker = make_tracker("我七十多岁了，腿脚不方便，想办残疾证", intent="inform_person_group", entities=ELDERLY)
    events = await ActionPersonGroup().run(dispatcher, tracker, {})
    assert slot_events(events) == {"current_thing": "43PCN0012", "match_verdict": "sure"}
    guide, offer = dispatcher.messages
    assert guide["text"].startswith("您要办的是：残疾人服务一件事")
    assert offer["response"] == "utter_offer_green_channel"


async def test_a_person_group_alone_gets_only_the_green_channel(use_real, dispatcher, make_tracker):
    tracker = make_tracker("我年纪大了，跑不动", intent="inform_person_group", entities=ELDERLY)
    events = await ActionPersonGroup().run(dispatcher, tracker, {})
    assert slot_events(events) == {"match_verdict": None}
    assert [m["response"] for m in dispatcher.messages] == ["utter_offer_green_channel"]


async def test_a_guide_for_someone_in_a_person_group_ends_with_the_green_channel(use_real, dispatcher, make_tracker):
    disabled = [{"entity": "person_group", "value": "残疾人", "start": 2, "end": 5}]
    tracker = make_tracker("我是残疾人，想办个残疾证", entities=disabled)
    await ActionFindThing().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["text"].startswith("您要办的是：残疾人服务一件事")
    assert dispatcher.messages[-1]["response"] == "utter_offer_green_channel"
    dispatcher.messages.clear()
    await ActionFindThing().run(dispatcher, make_tracker("我要办残疾证"), {})
    assert all(m.get("response") != "utter_offer_green_channel" for m in dispatcher.messages)
