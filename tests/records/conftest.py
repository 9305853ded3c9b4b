"""An async client from the records factory on the test Redis (flushed per test by ``redis_client``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis
import redis.asyncio

from records.client import async_client


@pytest.fixture()
async def aclient(redis_url: str, redis_client: redis.Redis) -> AsyncIterator[redis.asyncio.Redis]:
    client = async_client(redis_url, max_connections=32)
    yield client
    await client.aclose()
