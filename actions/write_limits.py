"""Fair use of writes: how many ratings, cases, handoff tickets and appointments one conversation may create.

One decision in one place: every action that writes a rating, a case or a ticket asks
:func:`allow_write` first. A fixed window per (kind, conversation) in Redis, so the limit holds
across action-server restarts and processes. Limits: ``ACTIONS_WRITE_LIMIT`` writes of each kind per
``ACTIONS_WRITE_WINDOW_SECONDS`` (defaults 5 per hour), far above what a person needs and low enough
that a script cannot fill the staff's lists.
"""

from __future__ import annotations

import logging
from enum import Enum

import redis

from actions.config import SETTINGS

logger = logging.getLogger(__name__)

PREFIX = "yjs:limit:write:"


class WriteLimited(Exception):
    """This conversation wrote too many of one kind in the window; nothing was written."""


class WriteKind(str, Enum):
    rating = "rating"
    case = "case"
    ticket = "ticket"
    booking = "booking"


def limit_key(kind: WriteKind, sender: str) -> str:
    return f"{PREFIX}{kind.value}:{sender}"


def allow_write(
    client: redis.Redis,
    kind: WriteKind,
    sender: str,
    *,
    limit: int | None = None,
    window_seconds: int | None = None,
) -> bool:
    """Count one write of ``kind`` for ``sender``; False (and nothing to write) once over the limit.

    Atomic (one MULTI: INCR, then EXPIRE NX so the window starts at the first write)."""
    limit = SETTINGS.write_limit if limit is None else limit
    window = SETTINGS.write_window_seconds if window_seconds is None else window_seconds
    key = limit_key(kind, sender)
    with client.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, window, nx=True)
        count, _ = pipe.execute()
    if int(count) > limit:
        logger.warning("write limit: %s for %s refused (%d in the window)", kind.value, sender, count)
        return False
    return True


def check_write(client: redis.Redis, kind: WriteKind, sender: str) -> None:
    """:func:`allow_write`, raising :class:`WriteLimited` when refused (for the store helpers)."""
    if not allow_write(client, kind, sender):
        raise WriteLimited(kind.value)
