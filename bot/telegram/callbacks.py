"""Button payloads as Telegram ``callback_data`` (at most 64 bytes).

- ``s:<code>``: a common situation of the ``/start`` menu (the press sends "我想办<title>");
- ``#<16 hex>``: a payload too long for 64 bytes (or one that looks like these forms), kept in Redis
  ``yjs:telegram:cb:<hex>`` for ``BUTTON_PAYLOADS_TTL_SECONDS`` (the same life as the gateway's
  memory of offered buttons). The hex is a hash of the payload, so a payload shown again reuses
  its key. When Redis cannot be written, an in-process table with the same life is used;
- anything else: the payload itself.

What comes back is only a hint: the payload still goes through ``bot.app.reply_to``, which lets a
``/...`` payload through as an intent only when it was offered to this conversation.
"""

from __future__ import annotations

import hashlib
import logging
import time

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

MAX_BYTES = 64
KEY_PREFIX = "yjs:telegram:cb:"
SITUATION = "s:"
MAPPED = "#"
LOCAL_MAX = 10_000


class CallbackStore:
    def __init__(self, redis: Redis, ttl_seconds: int) -> None:
        self._redis = redis
        self._ttl = ttl_seconds
        self._local: dict[str, tuple[float, str]] = {}  # fallback when Redis is away

    async def data_for(self, payload: str) -> str:
        """The ``callback_data`` of a button payload."""
        raw = payload.encode("utf-8")
        if len(raw) <= MAX_BYTES and not payload.startswith((SITUATION, MAPPED)):
            return payload
        digest = hashlib.sha256(raw).hexdigest()[:16]
        try:
            await self._redis.set(KEY_PREFIX + digest, payload, ex=self._ttl)
        except RedisError as exc:
            log.warning("telegram: button payload kept in memory only (%s)", type(exc).__name__)
            self._remember_locally(digest, payload)
        return MAPPED + digest

    async def payload_for(self, data: str) -> str | None:
        """The payload behind ``callback_data`` (None: a mapped one that expired or is unknown)."""
        if not data.startswith(MAPPED):
            return data
        digest = data[len(MAPPED):]
        try:
            value = await self._redis.get(KEY_PREFIX + digest)
        except RedisError as exc:
            log.warning("telegram: button payload lookup failed (%s)", type(exc).__name__)
            value = None
        if value is not None:
            return value.decode("utf-8") if isinstance(value, bytes) else str(value)
        local = self._local.get(digest)
        if local is not None and local[0] > time.monotonic():
            return local[1]
        return None

    def _remember_locally(self, digest: str, payload: str) -> None:
        now = time.monotonic()
        if len(self._local) >= LOCAL_MAX:
            self._local = {k: v for k, v in self._local.items() if v[0] > now}
            while len(self._local) >= LOCAL_MAX:
                self._local.pop(next(iter(self._local)))
        self._local[digest] = (now + self._ttl, payload)
