"""actions.latest: the channel comes from the user event's input_channel, else its metadata."""

from __future__ import annotations

from rasa_sdk import Tracker

from actions.latest import latest_channel, latest_confidence, latest_intent, latest_text, recent_entity


def _tracker(event: dict) -> Tracker:
    latest = {"text": " 你好 ", "intent": {"name": "greet", "confidence": "0.8"}}
    return Tracker("s", {}, latest, [{"event": "user", "text": "你好", **event}], False, None, {}, "action_listen")


def test_input_channel_first_then_metadata_then_none() -> None:
    assert latest_channel(_tracker({"input_channel": "telegram", "metadata": {"channel": "kiosk"}})) == "telegram"
    assert latest_channel(_tracker({"input_channel": None, "metadata": {"channel": "kiosk"}})) == "kiosk"
    assert latest_channel(_tracker({})) is None


def test_text_intent_and_confidence() -> None:
    tracker = _tracker({})
    assert (latest_text(tracker), latest_intent(tracker), latest_confidence(tracker)) == ("你好", "greet", 0.8)
    empty = Tracker("s", {}, {}, [], False, None, {}, "action_listen")
    assert (latest_text(empty), latest_intent(empty), latest_confidence(empty)) == ("", "", 0.0)


def test_recent_entity_looks_back_a_few_messages_within_the_session() -> None:
    def user(text: str, entities: list[dict[str, str]]) -> dict:
        return {"event": "user", "text": text, "parse_data": {"text": text, "entities": entities}}

    role = [{"entity": "applicant_role", "value": "堂客"}]
    events = [
        user("老的", [{"entity": "applicant_role", "value": "爸爸"}]),
        {"event": "action", "name": "action_session_start"},
        user("我堂客去办", role),
        {"event": "bot", "text": "好的"},
        user("帮我列个清单", []),
    ]
    tracker = Tracker("s", {}, events[-1]["parse_data"], events, False, None, {}, "action_listen")
    assert recent_entity(tracker, "applicant_role") == "堂客"
    assert recent_entity(tracker, "applicant_role", messages=1) is None
    assert recent_entity(Tracker("s", {}, {}, events[:1], False, None, {}, "action_listen"), "applicant_role") == "爸爸"
    new_session = [*events[:2], events[-1]]  # said before the session started: forgotten
    assert recent_entity(Tracker("s", {}, {}, new_session, False, None, {}, "action_listen"), "applicant_role") is None
    assert recent_entity(tracker, "town") is None
