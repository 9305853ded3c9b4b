"""``python -m bot.telegram`` as its own process under the stack's supervisor (scripts/stack.py):
killed, it is restarted with back-off, and what staff said meanwhile reaches the chat once."""

from __future__ import annotations

import asyncio
import sys
import time

import pytest
import redis
from conftest import TOKEN, new_chat
from standin import StandIn

from bot import messages
from records import staff_queue, tickets
from records.client import async_client

pytestmark = pytest.mark.e2e


async def test_a_killed_channel_is_restarted_and_loses_or_repeats_nothing(stack, standin: StandIn, tmp_path):
    sm = sys.modules["stack"]
    config = sm.StackConfig.on_free_ports(tmp_path)
    env = {**stack.config.env(), "TELEGRAM_TOKEN": TOKEN, "TELEGRAM_API_BASE": standin.base_url,
           "TELEGRAM_HEARTBEAT_FILE": str(config.telegram_heartbeat), "KNOWLEDGE_PRELOAD": "0"}
    events: list[str] = []
    probe = lambda: sm.file_fresh(config.telegram_heartbeat, sm.HEARTBEAT_STALE_SECONDS)  # noqa: E731
    service = sm.Service("telegram", [sys.executable, "-m", "bot.telegram"], env, config, probe, events.append)
    service.start()
    try:
        await asyncio.to_thread(service.wait_healthy, 60)
        service.watch()
        chat = new_chat()
        sender = f"tg-{chat}"
        standin.text(chat, "/help")
        await standin.wait_sent(chat)

        # Ask for a person through the process, then a ticket is waiting.
        standin.text(chat, "/human")
        asking = next(s for s in await standin.wait_sent(chat, after=1, match=lambda s: s.buttons) if s.buttons)
        yes = next(data for title, data in asking.buttons if "/affirm" in data or "同意" in title)
        seen = len(standin.sent_to(chat))
        standin.press(asking, yes)
        await standin.wait_sent(chat, after=seen, match=lambda s: "工作人员会在这里直接回复您" in (s.text or ""))
        app_redis = redis.Redis.from_url(stack.config.redis_url, decode_responses=True)
        ticket = tickets.ticket_for_sender_sync(app_redis, sender)
        assert ticket is not None
        await asyncio.sleep(2.5)  # the delivery follower has seen the ticket's events

        # Kill it; while it is down staff write, and the person writes too.
        await asyncio.to_thread(service.kill)
        client = async_client(stack.config.redis_url)
        try:
            await staff_queue.claim(client, ticket.id, "li")
            await staff_queue.add_staff_message(client, ticket.id, "li", "我是小李，您稍等。")
        finally:
            await client.aclose()
        seen = len(standin.sent_to(chat))
        standin.text(chat, "好的")
        started = time.monotonic()
        await standin.wait_sent(chat, after=seen, timeout=90,
                                match=lambda s: "我是小李" in (s.text or ""))
        print(f"\nstaff message delivered {time.monotonic() - started:.1f}s after the kill (restart included)")
        await standin.wait_sent(chat, after=seen, timeout=60, match=lambda s: "工作人员正在处理" in (s.text or ""))
        assert service.restarts >= 1
        await asyncio.sleep(3)
        texts = [s.text or "" for s in standin.sent_to(chat)]
        assert sum("我是小李" in t for t in texts) == 1, texts
        assert texts.count(messages.TG_HELP) == 1, texts
    finally:
        service.unwatch()
        await asyncio.to_thread(service.stop)
