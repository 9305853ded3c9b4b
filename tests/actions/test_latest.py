"""actions.latest: the channel comes from the user event's input_channel, else its metadata."""

from __future__ import annotations

from rasa_sdk import Tracker

from actions.latest import latest_channel, latest_confidence, latest_intent, latest_text


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
