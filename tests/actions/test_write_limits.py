"""Fair use of writes (actions/write_limits.py): a conversation cannot fill the staff's lists."""

from __future__ import annotations

import dataclasses

import pytest
import redis
from feedback_helpers import tracker, use_redis
from rasa_sdk.executor import CollectingDispatcher
from test_action_handoff import conversation

from actions import handoff, write_limits
from actions.complaint import ActionRecordComplaint
from actions.handoff import ActionHandoff
from actions.rating import ActionSaveRating
from actions.write_limits import WriteKind, allow_write, limit_key
from records import case_store as case_store
from records import tickets as handoff_store


@pytest.fixture
def limit_two(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(write_limits, "SETTINGS", dataclasses.replace(write_limits.SETTINGS, write_limit=2))


def test_the_window_counts_per_kind_and_conversation(redis_client: redis.Redis) -> None:
    assert [allow_write(redis_client, WriteKind.rating, "a", limit=2, window_seconds=60) for _ in range(4)] == [
        True, True, False, False,
    ]
    assert allow_write(redis_client, WriteKind.case, "a", limit=2, window_seconds=60)  # another kind
    assert allow_write(redis_client, WriteKind.rating, "b", limit=2, window_seconds=60)  # another conversation
    assert 0 < redis_client.ttl(limit_key(WriteKind.rating, "a")) <= 60  # the window started at the first write


def test_the_window_ends(redis_client: redis.Redis) -> None:
    assert allow_write(redis_client, WriteKind.ticket, "a", limit=1, window_seconds=60)
    assert not allow_write(redis_client, WriteKind.ticket, "a", limit=1, window_seconds=60)
    redis_client.delete(limit_key(WriteKind.ticket, "a"))  # as when the window expires
    assert allow_write(redis_client, WriteKind.ticket, "a", limit=1, window_seconds=60)


async def test_ratings_over_the_limit_are_thanked_not_stored(
    redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch, limit_two: None
) -> None:
    use_redis(monkeypatch, redis_url)
    replies = []
    for _ in range(4):
        d = CollectingDispatcher()
        entities = [{"entity": "rating", "value": "5"}]
        await ActionSaveRating().run(d, tracker('/rate{"rating":"5"}', intent="rate", entities=entities), {})
        replies.append(d.messages[0]["text"])
    assert len(case_store.list_ratings(redis_client)) == 2
    assert "评过好几次" in replies[-1] and "评过好几次" not in replies[0]


async def test_complaints_over_the_limit_still_point_to_12345(
    redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch, limit_two: None
) -> None:
    use_redis(monkeypatch, redis_url)
    for _ in range(3):
        d = CollectingDispatcher()
        await ActionRecordComplaint().run(d, tracker("你们窗口态度太差了", intent="complain"), {})
    assert len(case_store.list_cases(redis_client)) == 2
    assert "12345" in d.messages[0]["text"] and "编号" not in d.messages[0]["text"]


async def test_handoff_tickets_over_the_limit_give_the_hotline_and_do_not_pause(
    fake_service, redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch, limit_two: None
) -> None:
    client = redis.Redis.from_url(redis_url)
    monkeypatch.setattr(handoff, "redis_client", lambda: client)
    results = []
    for _ in range(3):
        d = CollectingDispatcher()
        results.append((await ActionHandoff().run(d, conversation("affirm"), {}), d.messages[0]["text"]))
    assert len(handoff_store.queued_ids_sync(redis_client)) == 2
    events, text = results[-1]
    assert events == [] and "好几次" in text and "0739-12345" in text
