"""Fair use: every limit on chat messages, in one place.

- **Rate limits** (Redis, shared by every gateway process; the ``limits`` library, moving window):
  ``CHAT_RATE_PER_CONVERSATION`` per conversation id and ``CHAT_RATE_PER_CLIENT`` per client address
  (clients in ``RATE_LIMIT_EXEMPT_CLIENTS`` have only the per-conversation limit).
- **One message in flight per conversation**: later ones wait their turn (in order, at most
  ``CHAT_TURN_QUEUE`` of them, at most ``CHAT_TURN_WAIT_SECONDS``); beyond that they are refused. In one
  process an ``asyncio.Lock`` orders them; a Redis lock (``yjs:turn:<conversation>``, leased for the
  chat timeout) keeps two gateway processes from sending the same conversation's messages at once.
- **Inbox reads** (``GET /api/chat/{sender}/inbox``) have their own windows:
  ``INBOX_RATE_PER_CONVERSATION`` and ``CHAT_RATE_PER_CLIENT``, so polling does not use up messages.
- **A bounded pool of calls to Rasa**: at most ``RASA_MAX_CONCURRENCY`` messages in flight to Rasa;
  as each conversation has at most one, one sender cannot fill it.

Refusals raise :class:`Busy` (the REST channel answers 429 with ``Retry-After``). They cost little: a
conversation whose queue is full is refused before Redis is asked, and an identity over a rate is
refused from memory until its window frees a place. Refusals log at DEBUG only (the access log has
the 429 line). When Redis cannot be reached the rate limits and the Redis lock are skipped (the
assistant cannot answer then anyway).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import Redis
from redis.exceptions import LockError, RedisError

from bot.config import Settings

log = logging.getLogger(__name__)

LIMITS_PREFIX = "yjs:limits"
TURN_PREFIX = "yjs:turn:"


class Busy(Exception):
    """A message refused for fair use. ``reason``: ``rate_conversation`` | ``rate_client`` |
    ``conversation_busy``; ``retry_after``: whole seconds to wait before sending again."""

    def __init__(self, reason: str, retry_after: int) -> None:
        super().__init__(f"{reason} (retry after {retry_after}s)")
        self.reason = reason
        self.retry_after = max(1, retry_after)


@dataclass
class _Turn:
    lock: asyncio.Lock
    users: int = 0  # holding or waiting


class FairUse:
    def __init__(self, redis: Redis, settings: Settings) -> None:
        self._redis = redis
        storage = RedisStorage(
            "async+redis://",
            implementation="redispy",
            key_prefix=LIMITS_PREFIX,
            connection_pool=redis.connection_pool,
        )
        self._limiter = MovingWindowRateLimiter(storage)
        self._per_conversation: list[RateLimitItem] = parse_many(settings.chat_rate_per_conversation)
        self._per_client: list[RateLimitItem] = parse_many(settings.chat_rate_per_client)
        self._inbox_per_conversation: list[RateLimitItem] = parse_many(settings.inbox_rate_per_conversation)
        self._exempt = settings.exempt_clients
        self._turn_wait = settings.chat_turn_wait_seconds
        self._turn_queue = settings.chat_turn_queue
        self._lease = settings.chat_timeout_seconds + 5.0
        self._turns: dict[str, _Turn] = {}
        self._refused_until: dict[tuple[str, str], float] = {}  # (namespace, identity) -> unix time
        self._rasa_slots = asyncio.Semaphore(settings.rasa_max_concurrency)

    # --- rate limits -----------------------------------------------------------------------------------

    async def admit(self, conversation: str, client: str | None) -> None:
        """Count one message; raise :class:`Busy` when its conversation's queue is full or the
        conversation or the client is over a rate."""
        self._check_queue(conversation)
        checks = [("rate_conversation", "chat-conversation", conversation, self._per_conversation)]
        if client and client not in self._exempt:
            checks.append(("rate_client", "chat-client", client, self._per_client))
        await self._hit(checks)

    async def admit_inbox(self, conversation: str, client: str | None) -> None:
        """Count one inbox read (``GET /api/chat/{sender}/inbox``): ``INBOX_RATE_PER_CONVERSATION``
        per conversation and ``CHAT_RATE_PER_CLIENT`` per client, each in its own window (reads do
        not use up messages). Raises :class:`Busy`."""
        checks = [("rate_conversation", "inbox-conversation", conversation, self._inbox_per_conversation)]
        if client and client not in self._exempt:
            checks.append(("rate_client", "inbox-client", client, self._per_client))
        await self._hit(checks)

    async def _hit(self, checks: list[tuple[str, str, str, list[RateLimitItem]]]) -> None:
        now = time.time()
        for reason, namespace, identity, _ in checks:
            until = self._refused_until.get((namespace, identity), 0.0)
            if until > now:
                raise Busy(reason, math.ceil(until - now))
        try:
            for reason, namespace, identity, items in checks:
                for item in items:
                    if not await self._limiter.hit(item, namespace, identity):
                        stats = await self._limiter.get_window_stats(item, namespace, identity)
                        self._remember_refusal(namespace, identity, stats.reset_time)
                        log.debug("rate limited (%s %s)", reason, item)
                        raise Busy(reason, math.ceil(stats.reset_time - time.time()))
        except RedisError as exc:
            log.warning("rate limits skipped, redis unavailable: %s", type(exc).__name__)

    def _remember_refusal(self, namespace: str, identity: str, until: float) -> None:
        # The moving window frees a place at ``until`` at the earliest: no need to ask Redis before.
        if len(self._refused_until) > 10_000:
            now = time.time()
            self._refused_until = {k: t for k, t in self._refused_until.items() if t > now}
        self._refused_until[(namespace, identity)] = until

    def _check_queue(self, conversation: str) -> None:
        turn = self._turns.get(conversation)
        if turn is not None and turn.users > self._turn_queue:
            log.debug("conversation busy: %d messages already in flight or waiting", turn.users)
            raise Busy("conversation_busy", math.ceil(self._turn_wait))

    # --- one message in flight per conversation --------------------------------------------------------

    @asynccontextmanager
    async def turn(self, conversation: str) -> AsyncIterator[None]:
        """Hold the conversation's turn: wait for the message before this one, or raise :class:`Busy`."""
        turn = self._turns.get(conversation)
        if turn is None:
            turn = self._turns[conversation] = _Turn(asyncio.Lock())
        if turn.users > self._turn_queue:
            log.debug("conversation busy: %d messages already in flight or waiting", turn.users)
            raise Busy("conversation_busy", math.ceil(self._turn_wait))
        turn.users += 1
        try:
            deadline = time.monotonic() + self._turn_wait
            try:
                async with asyncio.timeout(self._turn_wait):
                    await turn.lock.acquire()
            except TimeoutError:
                log.debug("conversation busy: waited %gs for the previous message", self._turn_wait)
                raise Busy("conversation_busy", math.ceil(self._turn_wait)) from None
            try:
                async with self._shared_turn(conversation, deadline - time.monotonic()):
                    yield
            finally:
                turn.lock.release()
        finally:
            turn.users -= 1
            if turn.users == 0:
                self._turns.pop(conversation, None)

    @asynccontextmanager
    async def _shared_turn(self, conversation: str, wait: float) -> AsyncIterator[None]:
        """The turn across gateway processes (a Redis lock). Skipped when Redis is down."""
        lock = self._redis.lock(
            f"{TURN_PREFIX}{conversation}",
            timeout=self._lease,
            sleep=0.05,
            blocking_timeout=max(wait, 0.05),
        )
        try:
            acquired = await lock.acquire()
        except RedisError as exc:
            log.warning("turn lock skipped, redis unavailable: %s", type(exc).__name__)
            yield
            return
        if not acquired:
            log.warning("conversation busy in another gateway process")
            raise Busy("conversation_busy", math.ceil(self._turn_wait))
        try:
            yield
        finally:
            try:
                await lock.release()
            except (LockError, RedisError) as exc:  # lease expired, or Redis went away
                log.warning("turn lock release failed: %s", type(exc).__name__)

    # --- the pool of calls to Rasa ----------------------------------------------------------------------

    @asynccontextmanager
    async def rasa_slot(self, wait: float) -> AsyncIterator[None]:
        """One of the ``RASA_MAX_CONCURRENCY`` places in flight to Rasa, waiting for one in order at
        most ``wait`` seconds (then ``TimeoutError``)."""
        async with asyncio.timeout(wait):
            await self._rasa_slots.acquire()
        try:
            yield
        finally:
            self._rasa_slots.release()
