"""Only the assistant's own buttons are intents.

Rasa reads any message starting with ``/`` (after trimming) as an intent with entities: a typed
``/restart`` restarts the conversation, ``/rate{"rating":"-1"}`` would be a rating. So the gateway
remembers, per conversation, the button payloads it has shown (``buttons`` and ``quick_replies`` of
the replies it sends) and lets a ``/...`` message through as an intent only when it is one of them.
Anything else starting with ``/`` is text: its leading ``/`` becomes the full-width ``／``, which Rasa
does not unpack, so NLU reads it like any other sentence.

Redis: ``yjs:buttons:<conversation id>``, a sorted set of payloads scored by the time they were last
offered, at most ``BUTTON_PAYLOADS_MAX`` (the newest), expiring ``BUTTON_PAYLOADS_TTL_SECONDS`` after
the last offer. When Redis cannot be read, a typed ``/...`` is treated as text (it fails closed).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

PREFIX = "yjs:buttons:"
INTENT_PREFIX = "/"  # rasa.shared.constants.INTENT_MESSAGE_PREFIX
NEUTRAL_PREFIX = "／"  # FULLWIDTH SOLIDUS: looks the same to a person, means nothing to Rasa


def key(conversation: str) -> str:
    return f"{PREFIX}{conversation}"


def offered_payloads(replies: Iterable[dict[str, Any]]) -> list[str]:
    """The intent payloads (``/...``) of the buttons and quick replies in a reply."""
    found: list[str] = []
    for message in replies:
        for field in ("buttons", "quick_replies"):
            for button in message.get(field) or []:
                payload = button.get("payload") if isinstance(button, dict) else None
                if isinstance(payload, str) and payload.strip().startswith(INTENT_PREFIX):
                    found.append(payload.strip())
    return found


def looks_like_intent(message: str) -> bool:
    """What Rasa would unpack as an intent: it trims the text (``str.strip``) and checks for ``/``."""
    return message.strip().startswith(INTENT_PREFIX)


def neutralise(message: str) -> str:
    """The message as text Rasa does not unpack: its leading ``/`` made full-width."""
    text = message.strip()
    return NEUTRAL_PREFIX + text[len(INTENT_PREFIX):] if text.startswith(INTENT_PREFIX) else message


class ButtonMemory:
    """The payloads offered to each conversation, in Redis (shared by every gateway process)."""

    def __init__(self, redis: Redis, ttl_seconds: int, max_payloads: int) -> None:
        self._redis = redis
        self._ttl = ttl_seconds
        self._max = max_payloads

    async def remember(self, conversation: str, replies: Iterable[dict[str, Any]]) -> None:
        payloads = offered_payloads(replies)
        if not payloads:
            return
        now = time.time()
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.zadd(key(conversation), {p: now for p in payloads})
                pipe.zremrangebyscore(key(conversation), "-inf", now - self._ttl)
                pipe.zremrangebyrank(key(conversation), 0, -self._max - 1)
                pipe.expire(key(conversation), self._ttl)
                await pipe.execute()
        except RedisError as exc:
            log.warning("could not remember offered buttons: %s", type(exc).__name__)

    async def was_offered(self, conversation: str, payload: str) -> bool:
        try:
            return await self._redis.zscore(key(conversation), payload.strip()) is not None
        except RedisError as exc:
            log.warning("could not read offered buttons: %s", type(exc).__name__)
            return False

    async def screen(self, conversation: str, message: str) -> str:
        """The message to send to Rasa: an offered payload as it is, any other ``/...`` as text."""
        if not looks_like_intent(message):
            return message
        if await self.was_offered(conversation, message):
            return message.strip()
        log.info("typed text starting with '/' sent to Rasa as text")
        return neutralise(message)
