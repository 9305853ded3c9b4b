"""Staff console sessions: server-side, in Redis, behind a random cookie.

Key:

- ``yjs:staff:session:<sha256(session id)>``  hash: ``username``, ``display_name``, ``csrf``,
  ``created_at``; expires ``STAFF_SESSION_HOURS`` after the login (absolute, not sliding: the
  cookie's ``Max-Age`` says the same).

Only the SHA-256 of the session id is stored, so a copy of the database does not hold live cookies.
The CSRF token is random per session; state-changing requests send it back in ``X-CSRF-Token``.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

SESSION_PREFIX = "yjs:staff:session:"
COOKIE_NAME = "yjs_staff_session"
_ID_BYTES = 32


@dataclass(frozen=True)
class StaffSession:
    username: str
    display_name: str
    csrf_token: str
    created_at: float


def session_key(session_id: str) -> str:
    return SESSION_PREFIX + hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


async def create_session(redis: Redis, username: str, display_name: str, lifetime_seconds: int) -> tuple[str, StaffSession]:
    """A new session: (the cookie value, the session)."""
    session_id = secrets.token_urlsafe(_ID_BYTES)
    session = StaffSession(
        username=username, display_name=display_name, csrf_token=secrets.token_urlsafe(_ID_BYTES), created_at=time.time()
    )
    key = session_key(session_id)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(
            key,
            mapping={
                "username": session.username,
                "display_name": session.display_name,
                "csrf": session.csrf_token,
                "created_at": repr(session.created_at),
            },
        )
        pipe.expire(key, lifetime_seconds)
        await pipe.execute()
    return session_id, session


async def get_session(redis: Redis, session_id: str | None) -> StaffSession | None:
    """The live session behind a cookie value (None when unknown, expired or malformed)."""
    if not session_id or len(session_id) > 128:
        return None
    data = {_text(k): _text(v) for k, v in (await redis.hgetall(session_key(session_id))).items()}
    if not data.get("username") or not data.get("csrf"):
        return None
    return StaffSession(
        username=data["username"],
        display_name=data.get("display_name") or data["username"],
        csrf_token=data["csrf"],
        created_at=float(data.get("created_at") or 0.0),
    )


async def delete_session(redis: Redis, session_id: str | None) -> None:
    if session_id and len(session_id) <= 128:
        await redis.delete(session_key(session_id))
