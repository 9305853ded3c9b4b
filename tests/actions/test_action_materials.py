"""action_list_materials: current thing, a thing named in the question, none known."""

from __future__ import annotations

import pytest
from actions_fakes import FakeAnswer, slot_events

from actions.materials import ActionListMaterials, specific_part


async def test_lists_materials_of_the_current_thing(fake_service, dispatcher, make_tracker):
    tracker = make_tracker("那要带么子材料咯", intent="ask_materials", slots={"current_thing": "43PCN0009"})

    events = await ActionListMaterials().run(dispatcher, tracker, {})

    assert events == []
    # a generic question is not sent to the matcher at all
    assert not [c for c in fake_service.calls if c[0] == "resolve"]
    [message] = dispatcher.messages
    body = message["text"]
    assert body.startswith("新生儿出生一件事")
    assert body.index("居民户口簿") < body.index("看情况才要的材料") < body.index("母亲授权委托书")
    assert "新生儿民族成份申请（父母双方是不同民族时提供）" in body
    assert "0739-6810891" in body
    assert "办理时限" not in body  # only the materials


async def test_asks_which_thing_when_none_is_known(fake_service, dispatcher, make_tracker):
    events = await ActionListMaterials().run(
        dispatcher, make_tracker("要带什么材料", intent="ask_materials"), {}
    )
    assert events == []
    assert "您想办哪件事" in dispatcher.messages[0]["text"]


async def test_a_thing_named_in_the_question_wins(fake_service, dispatcher, make_tracker):
    text = "出国留学要带么子材料"
    fake_service.answers[text] = FakeAnswer("sure", [fake_service.hit("43PCP0004")])
    tracker = make_tracker(text, intent="ask_materials", slots={"current_thing": "43PCN0009"})

    events = await ActionListMaterials().run(dispatcher, tracker, {})

    assert slot_events(events) == {"current_thing": "43PCP0004", "previous_thing": "43PCN0009"}
    body = dispatcher.messages[0]["text"]
    assert body.startswith("留学服务“一件事”")
    assert "提醒：以下为邵阳市的办事指南" in body


async def test_unsure_match_falls_back_to_the_current_thing(fake_service, dispatcher, make_tracker):
    text = "屋里老人去办要带么子"
    fake_service.answers[text] = FakeAnswer("ambiguous", [fake_service.hit("43PCP0004", 0.4)])
    tracker = make_tracker(text, intent="ask_materials", slots={"current_thing": "43PCN0009"})
    await ActionListMaterials().run(dispatcher, tracker, {})
    assert ("resolve", text) in fake_service.calls
    assert dispatcher.messages[0]["text"].startswith("新生儿出生一件事")


async def test_specific_part_is_tried_when_the_whole_question_is_unsure(
    fake_service, dispatcher, make_tracker
):
    text = "出国留学要带么子材料"
    fake_service.answers[text] = FakeAnswer("none", [fake_service.hit("43PCP0004", 0.3)])
    fake_service.answers["出国留学"] = FakeAnswer("sure", [fake_service.hit("43PCP0004")])
    tracker = make_tracker(text, intent="ask_materials", slots={"current_thing": "43PCN0009"})

    events = await ActionListMaterials().run(dispatcher, tracker, {})

    assert [c for c in fake_service.calls if c[0] == "resolve"] == [("resolve", text), ("resolve", "出国留学")]
    assert slot_events(events) == {"current_thing": "43PCP0004", "previous_thing": "43PCN0009"}
    assert dispatcher.messages[0]["text"].startswith("留学服务“一件事”")


async def test_empty_official_list_says_so(fake_service, dispatcher, make_tracker):
    tracker = make_tracker("材料", intent="ask_materials", slots={"current_thing": "43TCP0018"})
    await ActionListMaterials().run(dispatcher, tracker, {})
    body = dispatcher.messages[0]["text"]
    assert "官网没有列出材料清单（官方指南未列材料）" in body
    assert "0739-12345" in body


async def test_service_failure_is_polite(fake_service, dispatcher, make_tracker):
    fake_service.fail = True
    tracker = make_tracker("材料", intent="ask_materials", slots={"current_thing": "43PCN0009"})
    await ActionListMaterials().run(dispatcher, tracker, {})
    assert "0739-12345" in dispatcher.messages[0]["text"]


@pytest.mark.parametrize(
    ("text", "specific"),
    [
        ("那要带么子材料咯", ""),
        ("要几张照片", ""),
        ("除了身份证还要什么", ""),
        ("办退休要带么子材料", "办退休"),
        ("公租房申请要交哪些资料", "公租房申请"),
    ],
)
def test_specific_part_drops_generic_words(text, specific):
    assert specific_part(text) == specific
