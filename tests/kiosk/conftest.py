"""Fixtures for the kiosk tests against the real stack (``stack`` in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import redis


@pytest.fixture(scope="session")
def stack_gateway(stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.config.gateway_url, timeout=60, trust_env=False) as client:
        yield client


@pytest.fixture
def app_redis(stack) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(stack.config.redis_url, decode_responses=True)
    yield client
    client.close()
