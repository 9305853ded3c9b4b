"""Fixtures for the action tests: catalogue records, a fake knowledge service, trackers."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from actions_fakes import FakeService, all_themes
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import knowledge_client
from knowledge.models import Theme


@pytest.fixture
def themes() -> dict[str, Theme]:
    return all_themes()


@pytest.fixture
def fake_service(themes: dict[str, Theme], monkeypatch: pytest.MonkeyPatch) -> FakeService:
    service = FakeService(themes=themes)
    monkeypatch.setattr(knowledge_client, "service_factory", lambda: service)
    return service


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


@pytest.fixture
def make_tracker() -> Callable[..., Tracker]:
    """A tracker whose latest user message is `text` (with optional entities and slots)."""

    def _make(
        text: str,
        intent: str = "describe_situation",
        entities: list[dict[str, Any]] | None = None,
        slots: dict[str, Any] | None = None,
    ) -> Tracker:
        latest = {
            "text": text,
            "intent": {"name": intent, "confidence": 0.99},
            "entities": entities or [],
        }
        return Tracker(
            sender_id="test-user",
            slots={"current_thing": None, "previous_thing": None, "match_verdict": None, "town": None, **(slots or {})},
            latest_message=latest,
            events=[{"event": "user", "text": text, "parse_data": latest}],
            paused=False,
            followup_action=None,
            active_loop={},
            latest_action_name="action_listen",
        )

    return _make


@pytest.fixture(scope="session")
def real_service():
    """The real knowledge service over the real catalogue (index built by scripts/setup.sh)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from knowledge.service import get_service

    return get_service()


@pytest.fixture
def use_real(real_service, monkeypatch):
    """Make the actions use the real service instead of a fake."""
    from actions import knowledge_client

    monkeypatch.setattr(knowledge_client, "service_factory", lambda: real_service)
    return real_service
