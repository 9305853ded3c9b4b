"""Handoff tickets: the one store, shared by the action server and the gateway (docs/handoff.md).

Async functions (``redis.asyncio``) for the gateway and the staff side; ``*_sync`` ones for the action
server (it runs actions in worker threads) and scripts. ``create_ticket_sync`` publishes the
``created`` event like ``create_ticket``. Keys, all in the database of ``REDIS_URL``:

- ``yjs:handoff:ticket:<id>``            string: the ticket, JSON (``HandoffTicket``, schema 1)
- ``yjs:handoff:queue``                  sorted set: ids of *waiting* tickets, score ``queue_score``
                                         (created_at − 1e10 for priority tickets): serve lowest first
- ``yjs:handoff:by_sender:<conversation>`` string: the id of the ticket the gateway must care about
                                         (open, resumed while Rasa could not be told, or closed with
                                         the hand-back still pending: see ``records.handback``)
- ``yjs:handoff:claimed``                sorted set: ids of *picked up* tickets, score claimed_at
- ``yjs:handoff:closed``                 sorted set: ids of *closed* tickets, score closed_at
- ``yjs:handoff:staff_seen``             sorted set: staff username → last sign of life (heartbeat
                                         or claim), unix seconds
- ``yjs:handoff:pickups``                list: the last ``PICKUPS_KEPT`` claims as
                                         ``"<created_at> <claimed_at>"``, newest first (wait estimates)
- ``yjs:handoff:returning:<id>``         string with expiry: which gateway process is handing a closed
                                         ticket back to Rasa (``records.handback``)
- ``yjs:handoff:events``, ``yjs:handoff:inbox:<conversation>``: see ``records.events``, ``records.inbox``

``sender`` on tickets and in keys is always the *conversation id* (``bot.conversation``): the action
server writes ``tracker.sender_id``, which is what the gateway sent to Rasa.

Every change goes through ``update`` (``records.cas``): the ticket JSON is compared and set together
with its index, event and inbox updates in one Lua script, so they never disagree.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import redis
import redis.asyncio

from records.cas import AlreadyApplied, Op, compare_and_set, compare_and_set_sync, update_loop
from records.errors import Conflict
from records.events import EventKind, event_op
from records.ticket_model import HandoffTicket

__all__ = [
    "PREFIX",
    "CLAIMED_KEY",
    "CLOSED_KEY",
    "PICKUPS_KEY",
    "PICKUPS_KEPT",
    "QUEUE_KEY",
    "STAFF_SEEN_KEY",
    "create_ticket",
    "create_ticket_sync",
    "dump",
    "get_ticket",
    "get_ticket_sync",
    "get_tickets",
    "load",
    "queue_score",
    "queued_ids",
    "queued_ids_sync",
    "returning_key",
    "sender_key",
    "ticket_for_sender",
    "ticket_for_sender_sync",
    "ticket_key",
    "update",
]

PREFIX = "yjs:handoff:"
QUEUE_KEY = f"{PREFIX}queue"
# Priority tickets sort before every ordinary one (scores are unix seconds, ~1.8e9 today).
PRIORITY_OFFSET = 1e10

CLAIMED_KEY = f"{PREFIX}claimed"
CLOSED_KEY = f"{PREFIX}closed"
STAFF_SEEN_KEY = f"{PREFIX}staff_seen"
PICKUPS_KEY = f"{PREFIX}pickups"
PICKUPS_KEPT = 50


def ticket_key(ticket_id: str) -> str:
    return f"{PREFIX}ticket:{ticket_id}"


def sender_key(conversation: str) -> str:
    return f"{PREFIX}by_sender:{conversation}"


def queue_score(ticket: HandoffTicket) -> float:
    return ticket.created_at - (PRIORITY_OFFSET if ticket.priority else 0.0)


def returning_key(ticket_id: str) -> str:
    return f"{PREFIX}returning:{ticket_id}"


def _text(value: Any) -> str | None:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def load(raw: str) -> HandoffTicket:
    return HandoffTicket.model_validate_json(raw)


def dump(ticket: HandoffTicket) -> str:
    return ticket.model_dump_json()


async def get_ticket(client: redis.asyncio.Redis, ticket_id: str) -> HandoffTicket | None:
    raw = _text(await client.get(ticket_key(ticket_id)))
    return load(raw) if raw else None


async def ticket_for_sender(client: redis.asyncio.Redis, conversation: str) -> HandoffTicket | None:
    """The ticket the gateway must care about for this conversation (see ``sender_key``), if any."""
    ticket_id = _text(await client.get(sender_key(conversation)))
    return await get_ticket(client, ticket_id) if ticket_id else None


async def queued_ids(client: redis.asyncio.Redis) -> list[str]:
    """Waiting ticket ids, the one to serve first first."""
    return [_text(i) or "" for i in await client.zrange(QUEUE_KEY, 0, -1)]


async def get_tickets(client: redis.asyncio.Redis, ticket_ids: Sequence[str]) -> list[HandoffTicket]:
    """The tickets that still exist, in the order given."""
    if not ticket_ids:
        return []
    raws = await client.mget([ticket_key(i) for i in ticket_ids])
    return [load(t) for t in (_text(r) for r in raws) if t]


async def update(
    client: redis.asyncio.Redis,
    ticket_id: str,
    change: Callable[[HandoffTicket], tuple[HandoffTicket, Sequence[Op]]],
) -> tuple[HandoffTicket, list[Any]]:
    """Apply ``change`` atomically (re-read and retried while others write). ``change`` raises
    ``Conflict`` to refuse; ``NotFound`` for an unknown id."""
    return await update_loop(client, ticket_key(ticket_id), load, dump, change)


async def update_once(
    client: redis.asyncio.Redis,
    ticket_id: str,
    change: Callable[[HandoffTicket], tuple[HandoffTicket, Sequence[Op]]],
) -> HandoffTicket:
    """:func:`update` for a request that may be retried: when ``change`` raises ``AlreadyApplied``
    (this very request was applied before), nothing is written and the ticket is returned as it is."""
    try:
        ticket, _ = await update(client, ticket_id, change)
    except AlreadyApplied as same:
        return same.record
    return ticket


def _create_ops(ticket: HandoffTicket, now: float) -> list[Op]:
    return [
        ("ZADD", QUEUE_KEY, repr(queue_score(ticket)), ticket.id),
        ("SET", sender_key(ticket.sender), ticket.id),
        event_op(EventKind.created, ticket, now),
    ]


async def create_ticket(client: redis.asyncio.Redis, ticket: HandoffTicket, now: float | None = None) -> HandoffTicket:
    """Store a new waiting ticket, queue it, link the sender and announce it (one step). Sending the
    same ticket again (a retried request) is not an error; another ticket with its id is ``Conflict``."""
    now = time.time() if now is None else now
    body = dump(ticket)
    if await compare_and_set(client, ticket_key(ticket.id), None, body, _create_ops(ticket, now)) is None:
        if _text(await client.get(ticket_key(ticket.id))) != body:
            raise Conflict(f"ticket {ticket.id} exists")
    return ticket


def create_ticket_sync(client: redis.Redis, ticket: HandoffTicket, now: float | None = None) -> HandoffTicket:
    """The same for the action server's blocking client."""
    now = time.time() if now is None else now
    body = dump(ticket)
    if compare_and_set_sync(client, ticket_key(ticket.id), None, body, _create_ops(ticket, now)) is None:
        if _text(client.get(ticket_key(ticket.id))) != body:
            raise Conflict(f"ticket {ticket.id} exists")
    return ticket


def get_ticket_sync(client: redis.Redis, ticket_id: str) -> HandoffTicket | None:
    raw = _text(client.get(ticket_key(ticket_id)))
    return load(raw) if raw else None


def ticket_for_sender_sync(client: redis.Redis, conversation: str) -> HandoffTicket | None:
    ticket_id = _text(client.get(sender_key(conversation)))
    return get_ticket_sync(client, ticket_id) if ticket_id else None


def queued_ids_sync(client: redis.Redis) -> list[str]:
    return [_text(i) or "" for i in client.zrange(QUEUE_KEY, 0, -1)]
