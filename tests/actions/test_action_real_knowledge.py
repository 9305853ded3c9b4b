"""The actions against the real knowledge service and catalogue (no fakes)."""

from __future__ import annotations

from actions_fakes import slot_events

from actions.find_thing import ActionFindThing
from actions.materials import ActionListMaterials


async def test_birth_situation_then_materials(use_real, dispatcher, make_tracker):
    theme = use_real.get("43PCN0009")
    assert theme is not None
    events = await ActionFindThing().run(dispatcher, make_tracker("我堂客生了个伢子，要上户口"), {})
    slots = slot_events(events)
    assert slots == {"current_thing": "43PCN0009", "match_verdict": "sure"}
    body = dispatcher.messages[0]["text"]
    assert theme.title in body
    assert theme.phones.consult and theme.phones.consult in body
    always = [m.name for m in theme.materials if m.necessity.value == "always"]
    assert sum(name in body for name in always) == len(set(always))

    dispatcher.messages.clear()
    tracker = make_tracker("那要带么子材料咯", intent="ask_materials", slots={"current_thing": "43PCN0009"})
    await ActionListMaterials().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["text"].startswith(theme.title)


async def test_off_topic_is_not_answered_with_a_thing(use_real, dispatcher, make_tracker):
    events = await ActionFindThing().run(dispatcher, make_tracker("今天天气怎么样"), {})
    assert slot_events(events)["match_verdict"] in {"no_match", "ambiguous"}
    assert not dispatcher.messages[0]["text"].startswith("您要办的是：")


async def test_every_catalogue_theme_renders(use_real, dispatcher, make_tracker):
    for theme in use_real.themes():
        tracker = make_tracker(
            f'/choose_thing{{"thing_code":"{theme.code}"}}',
            intent="choose_thing",
            entities=[{"entity": "thing_code", "value": theme.code}],
        )
        events = await ActionFindThing().run(dispatcher, tracker, {})
        assert slot_events(events)["current_thing"] == theme.code
        body = dispatcher.messages[-1]["text"]
        assert theme.title in body and "\n\n" not in body
        if theme.region is not None and not theme.region.is_county_own:
            assert "提醒" in body, theme.code
