"""Push what staff, the queue and the assistant say outside a reply into Telegram chats.

While a ticket is open, staff messages, "您前面还有 N 位…" and, after staff give the conversation
back, the assistant's rating prompt (with its buttons) land in the conversation's inbox stream
(``records.inbox``: ``yjs:handoff:inbox:<conversation>``). This follower sends each of them into
the chat once:

- **which conversations**: the handoff events stream (``records.events``) names the conversation of
  every ticket change; those starting with ``tg-`` are *watched* (Redis sorted set
  ``yjs:telegram:watch``, by last activity, dropped after ``WATCH_SECONDS`` of quiet). At start, the
  open tickets and those closed in the last hour are watched too. The events cursor is kept in
  Redis (``yjs:telegram:events_cursor``), so events that came while the process was down are read.
- **what was delivered**: per conversation, the id of the last inbox entry sent
  (``yjs:telegram:inbox_cursor:<conversation>``, kept a day longer than the inbox itself). It is
  written right after the send, so a restart neither loses nor repeats a message (only a crash
  between a send and that write repeats one). A send that fails after its retries is logged with
  the chat id (``bot.telegram.send``) and passed over, so one bad chat does not stop the others.

One process per bot token delivers (Telegram allows one ``getUpdates`` consumer per token anyway).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio
from redis.exceptions import RedisError
from telegram import Bot

from bot import messages
from bot.telegram import chat_for
from records import inbox, staff_queue
from records.errors import RecordError
from records.events import EVENTS_KEY, latest_event_id

log = logging.getLogger(__name__)

WATCH_KEY = "yjs:telegram:watch"
EVENTS_CURSOR_KEY = "yjs:telegram:events_cursor"
CURSOR_PREFIX = "yjs:telegram:inbox_cursor:"
CURSOR_TTL_SECONDS = inbox.INBOX_TTL_SECONDS + 86_400
WATCH_SECONDS = 24 * 3600
BLOCK_MS = 2_000  # below every client's socket time-out
RETRY_SECONDS = 1.0
CATCH_UP_SECONDS = 3_600.0

SendReplies = Callable[[Bot, int, list[dict[str, Any]]], Awaitable[None]]


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def as_reply(message: inbox.InboxMessage) -> dict[str, Any]:
    """An inbox message as a reply to render: staff messages say who speaks."""
    text = f"{messages.TG_STAFF_PREFIX}{message.text}" if message.sender == "staff" else message.text
    reply: dict[str, Any] = {"text": text}
    if message.buttons:
        reply["buttons"] = [b.model_dump() for b in message.buttons]
    return reply


class Delivery:
    def __init__(self, client: redis.asyncio.Redis, blocking: redis.asyncio.Redis, bot: Bot, send: SendReplies) -> None:
        self._redis = client
        self._blocking = blocking  # XREAD BLOCK holds a connection: not from the chat pool
        self._bot = bot
        self._send = send
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.delivered = 0

    def start(self) -> None:
        for coro, name in ((self._follow_events(), "telegram-events"), (self._deliver_loop(), "telegram-delivery")):
            task = asyncio.create_task(coro, name=name)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def stop(self, grace: float = 0.5) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=grace)

    async def watch(self, conversation: str) -> None:
        await self._redis.zadd(WATCH_KEY, {conversation: time.time()})
        self._wake.set()

    # --- which conversations ---------------------------------------------------------------------------

    async def _watch_open_tickets(self) -> None:
        found = [
            *await staff_queue.list_tickets(self._redis, "waiting"),
            *await staff_queue.list_tickets(self._redis, "picked_up"),
            *await staff_queue.list_tickets(self._redis, "closed", since=time.time() - CATCH_UP_SECONDS),
        ]
        for ticket in found:
            if chat_for(ticket.sender) is not None:
                await self.watch(ticket.sender)

    async def _follow_events(self) -> None:
        last: str | None = None
        while True:
            try:
                if last is None:
                    stored = await self._redis.get(EVENTS_CURSOR_KEY)
                    last = _text(stored) if stored else await latest_event_id(self._blocking)
                    await self._watch_open_tickets()
                reply = await self._blocking.xread({EVENTS_KEY: last}, count=100, block=BLOCK_MS)
                entries = [(i, f) for _, batch in (reply or []) for i, f in batch]
                for entry_id, fields in entries:
                    conversation = _text(fields.get(b"conversation", fields.get("conversation", "")))
                    if chat_for(conversation) is not None:
                        await self.watch(conversation)
                    last = _text(entry_id)
                if entries:
                    await self._redis.set(EVENTS_CURSOR_KEY, last)
            except asyncio.CancelledError:
                raise
            except (RedisError, RecordError, OSError, ValueError) as exc:
                log.warning("telegram delivery: events: %s; retrying", type(exc).__name__)
                await asyncio.sleep(RETRY_SECONDS)

    # --- what to deliver -------------------------------------------------------------------------------

    async def _deliver_loop(self) -> None:
        while True:
            try:
                await self.deliver_once(block_ms=BLOCK_MS)
            except asyncio.CancelledError:
                raise
            except (RedisError, RecordError, OSError, ValueError) as exc:
                log.warning("telegram delivery: inbox: %s; retrying", type(exc).__name__)
                await asyncio.sleep(RETRY_SECONDS)

    async def deliver_once(self, block_ms: int | None = None) -> int:
        """Send what is new in the watched inboxes (waiting up to ``block_ms`` for something); how many."""
        await self._redis.zremrangebyscore(WATCH_KEY, "-inf", time.time() - WATCH_SECONDS)
        watched = [_text(c) for c in await self._redis.zrange(WATCH_KEY, 0, -1)]
        if not watched:
            self._wake.clear()
            if block_ms:
                try:
                    await asyncio.wait_for(self._wake.wait(), block_ms / 1000)
                except TimeoutError:
                    pass
            return 0
        cursors = [_text(c) if c else "0-0" for c in await self._redis.mget([CURSOR_PREFIX + c for c in watched])]
        if block_ms:
            streams = {inbox.inbox_key(c): cursor for c, cursor in zip(watched, cursors, strict=True)}
            reply = await self._blocking.xread(streams, count=1, block=block_ms)
            ready = {_text(key) for key, _ in (reply or [])}
        else:
            ready = {inbox.inbox_key(c) for c in watched}
        sent = 0
        for conversation, cursor in zip(watched, cursors, strict=True):
            if inbox.inbox_key(conversation) in ready:
                sent += await self._deliver(conversation, cursor)
        return sent

    async def _deliver(self, conversation: str, cursor: str) -> int:
        chat_id = chat_for(conversation)
        if chat_id is None:
            return 0
        found = await inbox.read_inbox(self._redis, conversation, None if cursor == "0-0" else cursor)
        for message in found:
            await self._send(self._bot, chat_id, [as_reply(message)])
            await self._redis.set(CURSOR_PREFIX + conversation, message.id, ex=CURSOR_TTL_SECONDS)
            await self._redis.zadd(WATCH_KEY, {conversation: time.time()})
            self.delivered += 1
        return len(found)
