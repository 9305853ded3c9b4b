"""Fixtures for the action tests: catalogue records, a fake knowledge service, trackers."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from actions_fakes import FakeService, all_themes
from hours_env import ALWAYS_OPEN
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


@pytest.fixture
def records_redis(redis_url: str, redis_client, monkeypatch: pytest.MonkeyPatch):
    """The appointment and handoff actions on the test Redis (clean), staff at work around the clock
    (a test that wants the centre closed sets ALWAYS_CLOSED)."""
    import contextlib

    import redis as redis_sync

    from actions import appointments, handoff
    from records.client import async_client

    @contextlib.asynccontextmanager
    async def client():
        c = async_client(redis_url)
        try:
            yield c
        finally:
            await c.aclose()

    for module in (appointments, handoff):
        monkeypatch.setattr(module, "records_client", client)
    sync = redis_sync.Redis.from_url(redis_url)
    monkeypatch.setattr(appointments, "redis_client", lambda: sync)
    monkeypatch.setattr(handoff, "redis_client", lambda: sync)
    for name, value in ALWAYS_OPEN.items():
        monkeypatch.setenv(name, value)
    for name in ("APPOINTMENT_SLOTS", "APPOINTMENT_HOLIDAYS", "APPOINTMENT_DAYS_AHEAD", "APPOINTMENT_OFFER_WAIT_MINUTES"):
        monkeypatch.delenv(name, raising=False)
    return redis_client
