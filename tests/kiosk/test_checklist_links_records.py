"""records.checklist_links against a real redis-server: store, read, expiry, refusals."""

from __future__ import annotations

import asyncio

import pytest
import redis

from records import checklist_links
from records.client import async_client
from records.errors import Invalid


@pytest.fixture
async def rec(redis_url: str, redis_client: redis.Redis):
    client = async_client(redis_url, max_connections=4)
    yield client
    await client.aclose()


async def test_a_link_keeps_the_checklist_for_its_ttl(rec, redis_client):
    token = await checklist_links.create_link(rec, "新生儿出生一件事", ["43PCN0009"], "1. 身份证\n2. 户口本", 3600, now=100.0)
    assert checklist_links.is_token(token) and len(token) >= 22
    link = await checklist_links.get_link(rec, token)
    assert link is not None
    assert (link.title, link.codes, link.text, link.created) == ("新生儿出生一件事", ["43PCN0009"], "1. 身份证\n2. 户口本", 100.0)
    assert 3590 <= redis_client.ttl(checklist_links.link_key(token)) <= 3600
    assert 3590 <= await checklist_links.seconds_left(rec, token) <= 3600


async def test_tokens_are_random(rec):
    tokens = {await checklist_links.create_link(rec, "t", [], "x", 60) for _ in range(50)}
    assert len(tokens) == 50


async def test_an_expired_link_shows_nothing(rec, redis_client):
    token = await checklist_links.create_link(rec, "退休“一件事”", ["43PCN0013"], "身份证", ttl_seconds=1)
    assert await checklist_links.get_link(rec, token) is not None
    await asyncio.sleep(1.3)
    assert await checklist_links.get_link(rec, token) is None
    assert await checklist_links.seconds_left(rec, token) is None
    assert not redis_client.exists(checklist_links.link_key(token))


@pytest.mark.parametrize("token", ["", "short", "../../etc/passwd", "a" * 65, "有中文的令牌有中文的令牌有中文的令牌有中文的令牌"])
async def test_malformed_or_unknown_tokens_find_nothing(rec, token):
    assert await checklist_links.get_link(rec, token) is None


async def test_refusals(rec):
    with pytest.raises(Invalid):
        await checklist_links.create_link(rec, "t", [], "   ")
    with pytest.raises(Invalid):
        await checklist_links.create_link(rec, "t", [], "x", ttl_seconds=0)
    with pytest.raises(Invalid):
        await checklist_links.create_link(rec, "t", [f"C{i}" for i in range(50)], "x")


async def test_a_damaged_record_reads_as_missing(rec, redis_client):
    token = await checklist_links.create_link(rec, "t", [], "x", 60)
    redis_client.set(checklist_links.link_key(token), "{not json")
    assert await checklist_links.get_link(rec, token) is None
