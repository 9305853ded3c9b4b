"""Live handoff events: one Redis Stream every gateway process reads (staff console, live delivery).

Key:

- ``yjs:handoff:events``  stream, capped near ``EVENTS_MAXLEN`` entries (``XADD … MAXLEN ~``). Entry
  fields: ``kind`` (``EventKind``), ``ticket``, ``conversation``, ``status``, ``priority`` ("1"/"0"),
  ``ts`` (unix seconds), and by kind ``staff``, ``text`` (staff and citizen messages only: private
  notes never carry their text), ``outcome``, ``return_to_bot`` ("1"/"0"), ``reason``.

Every write in ``records.staff_queue`` / ``records.handback`` adds its event inside the same Lua script
as the change itself, so an event exists exactly when the change does. Readers keep the id of the last
entry they saw and call ``read_events(client, last_id, block_ms)``; two processes reading the same
stream see the same entries in the same order.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import redis
import redis.asyncio
from pydantic import BaseModel, ConfigDict

from records.cas import Op
from records.client import MAX_BLOCK_MS
from records.ticket_model import HandoffTicket

EVENTS_KEY = "yjs:handoff:events"
EVENTS_MAXLEN = 10_000


class EventKind(str, Enum):
    created = "created"  # a new waiting ticket
    claimed = "claimed"
    requeued = "requeued"  # the claiming staff member went silent: back in the queue
    closed = "closed"
    returned = "returned"  # the gateway had Rasa resume after a close
    resumed = "resumed"  # the person went back to the assistant before staff finished
    staff_message = "staff_message"
    citizen_message = "citizen_message"
    note = "note"  # a private note was added (its text is not in the event)


class Event(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str  # stream entry id, pass it back as ``last_id``
    kind: EventKind
    ticket: str
    conversation: str
    status: str
    priority: bool
    ts: float
    staff: str | None = None
    text: str | None = None
    outcome: str | None = None
    return_to_bot: bool | None = None
    reason: str | None = None


def _fields(kind: EventKind, ticket: HandoffTicket, ts: float, extra: dict[str, Any]) -> list[str]:
    fields = {
        "kind": kind.value,
        "ticket": ticket.id,
        "conversation": ticket.sender,
        "status": ticket.status.value,
        "priority": "1" if ticket.priority else "0",
        "ts": repr(float(ts)),
    }
    for name, value in extra.items():
        if value is None:
            continue
        fields[name] = ("1" if value else "0") if isinstance(value, bool) else str(value)
    return [part for pair in fields.items() for part in pair]


def event_op(kind: EventKind, ticket: HandoffTicket, ts: float, **extra: Any) -> Op:
    """The XADD to run inside a compare-and-set script (``records.cas``)."""
    return ("XADD", EVENTS_KEY, "MAXLEN", "~", EVENTS_MAXLEN, "*", *_fields(kind, ticket, ts, extra))


async def publish(client: redis.asyncio.Redis, kind: EventKind, ticket: HandoffTicket, ts: float, **extra: Any) -> str:
    """Add an event on its own (for changes made outside ``records``)."""
    op = event_op(kind, ticket, ts, **extra)
    return _text(await client.execute_command(*op))


def publish_sync(client: redis.Redis, kind: EventKind, ticket: HandoffTicket, ts: float, **extra: Any) -> str:
    op = event_op(kind, ticket, ts, **extra)
    return _text(client.execute_command(*op))


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _event(entry_id: Any, fields: dict[Any, Any]) -> Event:
    data = {_text(k): _text(v) for k, v in fields.items()}
    return Event.model_validate({"id": _text(entry_id), **data})


async def read_events(
    client: redis.asyncio.Redis, last_id: str = "$", block_ms: int | None = None, count: int = 100
) -> list[Event]:
    """Events after ``last_id`` (oldest first). ``"$"``: only those added from now on (use with
    ``block_ms``); ``"0"``: from the start of the stream. ``block_ms`` waits up to that long
    (at most ``MAX_BLOCK_MS``) when there is nothing new; ``None`` does not wait."""
    block = None if block_ms is None else max(1, min(int(block_ms), MAX_BLOCK_MS))
    reply = await client.xread({EVENTS_KEY: last_id}, count=count, block=block)
    return [_event(i, f) for _, entries in (reply or []) for i, f in entries]


async def latest_event_id(client: redis.asyncio.Redis) -> str:
    """The id of the newest event ("0-0" when there is none): a start for non-blocking polling."""
    last = await client.xrevrange(EVENTS_KEY, count=1)
    return _text(last[0][0]) if last else "0-0"
