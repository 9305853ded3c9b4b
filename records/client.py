"""The one Redis client factory for the action server, the gateway and the scripts.

The URL comes from the argument, else ``REDIS_URL``, else ``redis://127.0.0.1:6390/0`` (the private
redis-server that ``make run`` starts). Clients decode replies to ``str`` (every record here is UTF-8
JSON or text), time out instead of hanging (connect 3 s, read/write 10 s: longer than the longest
``XREAD BLOCK`` the records modules issue, see ``MAX_BLOCK_MS``) and retry a command twice, with a
short jittered back-off, on a connection error or timeout. Every write in ``records`` is safe to
send twice (compare-and-set scripts, idempotent claims); see the module docstrings.
"""

from __future__ import annotations

import os

import redis
import redis.asyncio
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

DEFAULT_URL = "redis://127.0.0.1:6390/0"
CONNECT_TIMEOUT = 3.0  # seconds
SOCKET_TIMEOUT = 10.0  # seconds; must stay above MAX_BLOCK_MS
MAX_BLOCK_MS = 5_000  # the longest blocking read (XREAD BLOCK) the records modules send
RETRIES = 2
ASYNC_MAX_CONNECTIONS = 64  # per process; a caller waits up to POOL_TIMEOUT for a free one
POOL_TIMEOUT = 5.0

_RETRY_ERRORS = (RedisConnectionError, RedisTimeoutError)


def redis_url(url: str | None = None) -> str:
    return url or os.environ.get("REDIS_URL") or DEFAULT_URL


def _backoff() -> ExponentialWithJitterBackoff:
    return ExponentialWithJitterBackoff(cap=0.5, base=0.05)


def sync_client(url: str | None = None) -> redis.Redis:
    """A blocking client (action server worker threads, scripts)."""
    return redis.Redis.from_url(
        redis_url(url),
        decode_responses=True,
        socket_connect_timeout=CONNECT_TIMEOUT,
        socket_timeout=SOCKET_TIMEOUT,
        retry=Retry(_backoff(), RETRIES, supported_errors=_RETRY_ERRORS),
        health_check_interval=30,
    )


def async_client(url: str | None = None, max_connections: int = ASYNC_MAX_CONNECTIONS) -> redis.asyncio.Redis:
    """An asyncio client over a bounded pool (the gateway; one per process, closed with ``aclose()``)."""
    pool = redis.asyncio.BlockingConnectionPool.from_url(
        redis_url(url),
        max_connections=max_connections,
        timeout=POOL_TIMEOUT,
        decode_responses=True,
        socket_connect_timeout=CONNECT_TIMEOUT,
        socket_timeout=SOCKET_TIMEOUT,
        retry=AsyncRetry(_backoff(), RETRIES, supported_errors=_RETRY_ERRORS),
        health_check_interval=30,
    )
    return redis.asyncio.Redis.from_pool(pool)
