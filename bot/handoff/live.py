"""Live handoff work of one gateway process, started in the app's lifespan (``HANDOFF_LIVE=1``).

- **Event follower**: reads the ``yjs:handoff:events`` stream (``XREAD BLOCK``, from the newest entry
  at start, then from the last one seen, so nothing is missed while Redis is briefly away).
  - ``closed`` -> the hand-back (``bot.handoff.handback``; the lease makes exactly one process do it);
    its messages go into the person's inbox.
  - ``created`` / ``claimed`` / ``requeued`` / ``closed`` / ``resumed`` -> every waiting person whose
    place in the queue changed gets "您前面还有 N 位，大约等 M 分钟" in their inbox
    (``records.handback.tell_place``: told once per place, whichever process gets there first).
  - At start, tickets closed in the last ``CATCH_UP_SECONDS`` whose hand-back is still pending (no
    gateway was running then) are handed back too.
- **Requeue loop**: every ``STAFF_REQUEUE_INTERVAL`` seconds, claims whose staff member showed no sign
  of life for ``STAFF_ABANDON_SECONDS`` go back to the queue (``records.staff_queue.requeue_abandoned``;
  compare-and-set, so several processes doing it at once is harmless).

Every process runs both; the records' compare-and-set writes and leases make them behave as one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from typing import Any

import redis.asyncio
from redis.exceptions import RedisError

from bot import messages
from bot.config import Settings
from bot.handoff.handback import HandBack
from records import handback, staff_queue, tickets
from records.errors import RecordError
from records.events import EventKind, latest_event_id, read_events

log = logging.getLogger(__name__)

BLOCK_MS = 4_000  # below every client's socket time-out
RETRY_SECONDS = 1.0
CATCH_UP_SECONDS = 3_600.0
PLACE_EVENTS = frozenset(
    {EventKind.created, EventKind.claimed, EventKind.requeued, EventKind.closed, EventKind.resumed}
)


async def tell_places(client: redis.asyncio.Redis, now: float | None = None) -> int:
    """Tell every waiting person whose place changed their new place and wait; how many were told."""
    now = time.time() if now is None else now
    told = 0
    for ticket in await tickets.get_tickets(client, await tickets.queued_ids(client)):
        try:
            pos = await staff_queue.position(client, ticket.id, now)
        except RecordError:
            continue
        if pos is None:
            continue
        text = messages.queue_place(pos.ahead, pos.estimated_wait_seconds)
        if await handback.tell_place(client, ticket, pos.place, text, now):
            told += 1
    return told


class Live:
    def __init__(self, client: redis.asyncio.Redis, blocking: redis.asyncio.Redis, hand_back: HandBack, settings: Settings) -> None:
        self._redis = client
        self._blocking = blocking  # XREAD BLOCK holds a connection: not from the chat pool
        self._hand_back = hand_back
        self._settings = settings
        self._tasks: set[asyncio.Task[Any]] = set()

    def start(self) -> None:
        self._spawn(self._follow_events(), "handoff-events")
        self._spawn(self._requeue_loop(), "handoff-requeue")

    async def stop(self, grace: float = 0.1) -> None:
        """Cancel every task and give them ``grace`` seconds. A follower still inside its
        ``XREAD BLOCK`` ends when that returns (at most ``BLOCK_MS``) or its client is closed."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=grace)

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def hand_back(self, ticket_id: str) -> None:
        try:
            result = await self._hand_back.run(ticket_id, to_inbox=True)
        except (RedisError, RecordError, OSError) as exc:
            log.warning("hand-back of ticket %s failed: %s", ticket_id, type(exc).__name__)
            return
        if result.status == "failed":
            log.warning("hand-back of ticket %s: rasa could not be told; the next message retries", ticket_id)

    async def _catch_up(self) -> None:
        closed = await staff_queue.list_tickets(self._redis, "closed", since=time.time() - CATCH_UP_SECONDS)
        for ticket in closed:
            if ticket.resume_pending:
                self._spawn(self.hand_back(ticket.id), f"hand-back-{ticket.id[:8]}")

    async def _follow_events(self) -> None:
        last: str | None = None
        while True:
            try:
                if last is None:
                    last = await latest_event_id(self._blocking)
                    await self._catch_up()
                events = await read_events(self._blocking, last, block_ms=BLOCK_MS)
                places = False
                for event in events:
                    last = event.id
                    if event.kind == EventKind.closed:
                        self._spawn(self.hand_back(event.ticket), f"hand-back-{event.ticket[:8]}")
                    places = places or event.kind in PLACE_EVENTS
                if places:
                    await tell_places(self._redis)
            except asyncio.CancelledError:
                raise
            except (RedisError, RecordError, OSError, ValueError) as exc:
                log.warning("handoff events: %s; retrying", type(exc).__name__)
                await asyncio.sleep(RETRY_SECONDS)

    async def _requeue_loop(self) -> None:
        while True:
            await asyncio.sleep(self._settings.staff_requeue_interval_seconds)
            try:
                ids = await staff_queue.requeue_abandoned(
                    self._redis, timeout_seconds=self._settings.staff_abandon_seconds
                )
            except (RedisError, RecordError, OSError) as exc:
                log.warning("requeue of abandoned claims failed: %s", type(exc).__name__)
                continue
            if ids:
                log.info("requeued %d ticket(s) whose staff member went silent", len(ids))
