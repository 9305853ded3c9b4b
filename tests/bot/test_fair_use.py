"""Fair use (bot/fairuse.py): rate limits in Redis, one message in flight per conversation, a bounded
pool of calls to Rasa. Real Redis; Rasa is a fake that takes its time."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import httpx
import pytest
import redis
from bot_helpers import assert_error
from gateway_harness import running_gateway

from bot.config import Settings


class SlowRasa:
    """Answers after ``delay`` seconds and records how many calls were in flight at once."""

    def __init__(self, delay: float = 0.05) -> None:
        self.delay = delay
        self.in_flight: Counter[str] = Counter()
        self.max_per_sender: Counter[str] = Counter()
        self.total = 0
        self.max_total = 0
        self.order: list[str] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/health":
            return httpx.Response(200, json={"status": "ok"})
        body = json.loads(request.content)
        sender = body["sender"]
        self.in_flight[sender] += 1
        self.total += 1
        self.max_per_sender[sender] = max(self.max_per_sender[sender], self.in_flight[sender])
        self.max_total = max(self.max_total, self.total)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.in_flight[sender] -= 1
            self.total -= 1
        self.order.append(body["message"])
        return httpx.Response(200, json=[{"recipient_id": sender, "text": "好的"}])


def chat(http: httpx.AsyncClient, sender: str, message: str = "你好", **headers: str):
    return http.post("/api/chat", json={"sender": sender, "message": message}, headers=headers)


async def test_a_conversation_over_its_rate_gets_a_kind_429(settings: Settings, redis_client: redis.Redis) -> None:
    limited = settings.model_copy(update={"chat_rate_per_conversation": "3/minute"})
    async with running_gateway(limited, SlowRasa(0)) as http:
        statuses = [(await chat(http, "rate-1")).status_code for _ in range(3)]
        refused = await chat(http, "rate-1")
        other = await chat(http, "rate-2")
    assert statuses == [200, 200, 200]
    error = assert_error(refused, 429, "too_many_messages")
    assert "歇一会儿" in error["message"]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert other.status_code == 200


async def test_a_client_over_its_rate_gets_429_across_conversations(
    settings: Settings, redis_client: redis.Redis
) -> None:
    limited = settings.model_copy(update={"chat_rate_per_client": "2/minute"})
    async with running_gateway(limited, SlowRasa(0)) as http:
        statuses = [(await chat(http, f"client-{i}")).status_code for i in range(3)]
    assert statuses == [200, 200, 429]
    # Limits live in Redis: a second gateway process sees the same counts.
    async with running_gateway(limited, SlowRasa(0)) as http:
        assert (await chat(http, "client-9")).status_code == 429
    async with running_gateway(limited, SlowRasa(0), client=("198.51.100.1", 1)) as http:
        assert (await chat(http, "client-9")).status_code == 200


async def test_exempt_clients_have_only_the_conversation_limit(settings: Settings, redis_client: redis.Redis) -> None:
    limited = settings.model_copy(update={"chat_rate_per_client": "1/minute"})
    async with running_gateway(limited, SlowRasa(0), client=("127.0.0.1", 5)) as http:
        statuses = [(await chat(http, f"local-{i}")).status_code for i in range(3)]
    assert statuses == [200, 200, 200]


async def test_one_message_in_flight_per_conversation_the_next_ones_wait_in_order(
    settings: Settings, redis_client: redis.Redis
) -> None:
    rasa = SlowRasa(0.6)
    queued = settings.model_copy(update={"chat_turn_queue": 2})
    async with running_gateway(queued, rasa) as http:
        tasks = [asyncio.create_task(chat(http, "turns-1", "m0"))]
        for _ in range(100):  # m0 in flight first (on a loaded machine its rate-limit checks may be slow)
            if rasa.in_flight["turns-1"]:
                break
            await asyncio.sleep(0.01)
        for i in (1, 2):  # then CHAT_TURN_QUEUE (2) waiting, well apart so they queue in this order
            tasks.append(asyncio.create_task(chat(http, "turns-1", f"m{i}")))
            await asyncio.sleep(0.15)
        responses = await asyncio.gather(*tasks)
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert rasa.max_per_sender["turns-1"] == 1
    assert rasa.order == ["m0", "m1", "m2"]


async def test_more_messages_than_the_queue_are_refused_at_once(settings: Settings, redis_client: redis.Redis) -> None:
    rasa = SlowRasa(0.3)
    async with running_gateway(settings, rasa) as http:
        responses = await asyncio.gather(*(chat(http, "turns-2", f"m{i}") for i in range(8)))
    statuses = Counter(r.status_code for r in responses)
    admitted = 1 + settings.chat_turn_queue  # one in flight, the queue waiting
    assert statuses == {200: admitted, 429: 8 - admitted}, statuses
    busy = next(r for r in responses if r.status_code == 429)
    assert_error(busy, 429, "conversation_busy")
    assert busy.headers["retry-after"]
    assert rasa.max_per_sender["turns-2"] == 1


async def test_a_message_waits_at_most_the_turn_wait(settings: Settings, redis_client: redis.Redis) -> None:
    quick = settings.model_copy(update={"chat_turn_wait_seconds": 0.2, "chat_timeout_seconds": 3})
    rasa = SlowRasa(1.0)
    async with running_gateway(quick, rasa) as http:
        first = asyncio.create_task(chat(http, "turns-3", "slow"))
        await asyncio.sleep(0.05)
        second = await chat(http, "turns-3", "next")
        assert (await first).status_code == 200
    assert_error(second, 429, "conversation_busy")


async def test_the_pool_to_rasa_is_bounded(settings: Settings, redis_client: redis.Redis) -> None:
    pooled = settings.model_copy(update={"rasa_max_concurrency": 2})
    rasa = SlowRasa(0.1)
    async with running_gateway(pooled, rasa) as http:
        responses = await asyncio.gather(*(chat(http, f"pool-{i}") for i in range(6)))
    assert all(r.status_code == 200 for r in responses)
    assert rasa.max_total == 2


@pytest.mark.parametrize("bad", ["20/fortnight", "many", "-1/minute"])
def test_a_bad_rate_setting_is_refused(bad: str) -> None:
    from bot.config import Settings as S
    from bot.config import SettingsError

    with pytest.raises(SettingsError, match="CHAT_RATE_PER_CONVERSATION"):
        S.from_env({"CHAT_RATE_PER_CONVERSATION": bad})


def test_the_exempt_clients_setting() -> None:
    assert Settings().exempt_clients == {"127.0.0.1", "::1"}
    assert Settings(rate_limit_exempt_clients="none").exempt_clients == frozenset()
    assert Settings.from_env({"RATE_LIMIT_EXEMPT_CLIENTS": "10.0.0.1, 10.0.0.2"}).exempt_clients == {
        "10.0.0.1", "10.0.0.2"}
