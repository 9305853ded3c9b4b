"""Trackers and settings for the feedback action tests (cases, ratings, complaints)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from rasa_sdk import Tracker

from actions import casework

CASE_SLOTS = (
    "case_matter", "case_place", "case_story", "case_contact_consent", "case_contact", "case_invalid",
    "case_stopped", "case_id", "rating_band", "rating_id", "rating_reason", "current_thing",
)


def tracker(
    text: str,
    intent: str = "nlu_fallback",
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    channel: str | None = None,
    sender: str = "feedback-user",
    active_loop: str | None = None,
) -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": entities or []}
    return Tracker(
        sender_id=sender,
        slots={**dict.fromkeys(CASE_SLOTS), **(slots or {})},
        latest_message=latest,
        events=[{"event": "user", "text": text, "parse_data": latest, "input_channel": channel or "rest"}],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def use_redis(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """Point the case actions at ``url`` (the real test redis-server, or a closed port)."""
    monkeypatch.setattr(casework, "SETTINGS", dataclasses.replace(casework.SETTINGS, redis_url=url))
