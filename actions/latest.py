"""What the person just said: the text, intent and confidence of the latest message, and its channel."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker


def _latest(tracker: Tracker) -> dict[str, Any]:
    return tracker.latest_message or {}


def latest_text(tracker: Tracker) -> str:
    return str(_latest(tracker).get("text") or "").strip()


def latest_search_text(tracker: Tracker) -> str:
    """The latest text as the knowledge search should see it: every town NLU found taken out
    (我是五峰铺的，要办退休 -> 我是的，要办退休). Where the person lives says nothing about the
    matter and only blurs the search. Spans without valid offsets are left in."""
    latest = _latest(tracker)
    text = str(latest.get("text") or "")
    spans = []
    for found in latest.get("entities") or []:
        start, end = found.get("start"), found.get("end")
        if found.get("entity") == "town" and isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text):
            spans.append((start, end))
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + text[end:]
    return text.strip()


def latest_intent(tracker: Tracker) -> str:
    return str((_latest(tracker).get("intent") or {}).get("name") or "")


def latest_confidence(tracker: Tracker) -> float:
    try:
        return float((_latest(tracker).get("intent") or {}).get("confidence") or 0.0)
    except (TypeError, ValueError):
        return 0.0


def latest_channel(tracker: Tracker) -> str | None:
    """The channel the person writes from: the latest user event's ``input_channel`` (the gateway
    sets it), else a ``channel`` in its metadata; None when neither is there."""
    channel = tracker.get_latest_input_channel()
    if not channel:
        for event in reversed(tracker.events):
            if event.get("event") == "user":
                metadata = event.get("metadata")
                channel = metadata.get("channel") if isinstance(metadata, dict) else None
                break
    return str(channel) if channel else None


def event_entity(event: dict[str, Any], entity: str) -> str | None:
    """The first value of ``entity`` that NLU found in one user event, if any."""
    for found in (event.get("parse_data") or {}).get("entities") or []:
        if found.get("entity") == entity and found.get("value"):
            return str(found["value"])
    return None


def recent_entity(tracker: Tracker, entity: str, messages: int = 5) -> str | None:
    """The value of ``entity`` in the latest of the person's last ``messages`` messages that has
    one (the latest message first); None when none of them has it. Stops at a session start."""
    seen = 0
    for event in reversed(tracker.events):
        if event.get("event") == "action" and event.get("name") == "action_session_start":
            break
        if event.get("event") != "user":
            continue
        if value := event_entity(event, entity):
            return value
        seen += 1
        if seen >= messages:
            break
    return None
