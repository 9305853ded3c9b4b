"""What the person just said: the text, intent, confidence and metadata of the tracker's latest message."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker


def _latest(tracker: Tracker) -> dict[str, Any]:
    return tracker.latest_message or {}


def latest_text(tracker: Tracker) -> str:
    return str(_latest(tracker).get("text") or "").strip()


def latest_intent(tracker: Tracker) -> str:
    return str((_latest(tracker).get("intent") or {}).get("name") or "")


def latest_confidence(tracker: Tracker) -> float:
    try:
        return float((_latest(tracker).get("intent") or {}).get("confidence") or 0.0)
    except (TypeError, ValueError):
        return 0.0


def latest_metadata(tracker: Tracker) -> dict[str, Any]:
    metadata = _latest(tracker).get("metadata")
    return metadata if isinstance(metadata, dict) else {}
