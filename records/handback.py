"""The gateway's side of a handoff: citizen messages, resuming, and handing a closed ticket back.

Keys: see ``records.tickets`` (ticket, queue, claimed, ``by_sender`` link, ``returning:<id>`` lease)
and ``records.events``.

Hand-back protocol (staff closed the ticket; exactly one resume of Rasa per close):

1. ``staff_queue.close`` sets status ``closed``, ``returned_to_bot`` (staff gave the conversation back
   to the assistant: resume *and* ask for the 好差评 rating of the human service; False: staff finished
   without handing back: resume quietly) and ``returned_at = None``. The ``by_sender`` link stays, so
   ``ticket.resume_pending`` is True and an event ``closed`` goes out.
2. A gateway process that sees it (the ``closed`` event, or the person's next message finding the
   link) calls ``try_begin_return(client, ticket_id, owner)``: a lease (SET NX PX); only the holder
   goes on, any other process leaves it alone.
3. The holder tells Rasa to resume (with the staff-handled rating when ``returned_to_bot``), then
   calls ``ack_returned``: ``returned_at`` set, sender link and lease removed, event ``returned``; it
   returns False if the hand-back was already acknowledged. If Rasa could not be told, the holder
   calls ``release_return`` and the next message (or process) tries again. A holder that dies keeps
   the lease only ``RETURN_LEASE_MS``: then another may retry (at-least-once only in that crash case).

``add_citizen_message`` and ``mark_resumed`` are compare-and-set versions of the gateway's
``aappend_transcript`` / ``amark_resumed`` that also publish the event, and never overwrite a claim
or a close made at the same moment.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Literal

import redis.asyncio

from records.cas import Op, run_script, script_sha
from records.errors import Conflict
from records.events import EventKind, event_op
from records.ticket_model import OPEN_STATUSES, HandoffTicket, TicketStatus, TranscriptLine
from records.tickets import CLAIMED_KEY, QUEUE_KEY, returning_key, sender_key, update

RETURN_LEASE_MS = 30_000

_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
_RELEASE_SHA = script_sha(_RELEASE)


async def add_citizen_message(
    client: redis.asyncio.Redis, ticket_id: str, text: str, now: float | None = None
) -> HandoffTicket:
    """The person wrote while the ticket is open: transcript line (role ``user``) and an event."""
    now = time.time() if now is None else now
    line = TranscriptLine(role="user", text=text, ts=now)

    def change(t: HandoffTicket) -> tuple[HandoffTicket, Sequence[Op]]:
        if t.transcript and t.transcript[-1] == line:
            raise _Same(t)  # a retried request
        if t.status not in OPEN_STATUSES:
            raise Conflict(f"ticket {t.id} is {t.status.value}")
        new = t.model_copy(update={"transcript": [*t.transcript, line], "updated_at": now})
        return new, [event_op(EventKind.citizen_message, new, now, text=text)]

    try:
        ticket, _ = await update(client, ticket_id, change)
    except _Same as same:
        return same.ticket
    return ticket


async def mark_resumed(
    client: redis.asyncio.Redis,
    ticket_id: str,
    reason: Literal["asked", "timeout"],
    rasa_told: bool,
    now: float | None = None,
) -> HandoffTicket:
    """The person went back to the assistant before staff finished: out of the queue / claimed index;
    the sender link goes once Rasa was told. ``Conflict`` if staff closed it (or it resumed) first."""
    now = time.time() if now is None else now

    def change(t: HandoffTicket) -> tuple[HandoffTicket, Sequence[Op]]:
        if t.status == TicketStatus.resumed and t.resumed_reason == reason and t.updated_at == now:
            raise _Same(t)  # a retried request
        if t.status not in OPEN_STATUSES:
            raise Conflict(f"ticket {t.id} is {t.status.value}")
        new = t.model_copy(update={"status": TicketStatus.resumed, "resumed_reason": reason, "updated_at": now})
        ops: list[Op] = [("ZREM", QUEUE_KEY, t.id), ("ZREM", CLAIMED_KEY, t.id)]
        if rasa_told:
            ops.append(("DELIFEQ", sender_key(t.sender), t.id))
        ops.append(event_op(EventKind.resumed, new, now, reason=reason, staff=t.staff))
        return new, ops

    try:
        ticket, _ = await update(client, ticket_id, change)
    except _Same as same:
        return same.ticket
    return ticket


async def try_begin_return(
    client: redis.asyncio.Redis, ticket_id: str, owner: str, lease_ms: int = RETURN_LEASE_MS
) -> bool:
    """Take the hand-back of a closed ticket (step 2). True: this caller tells Rasa, then acks."""
    return bool(await client.set(returning_key(ticket_id), owner, nx=True, px=lease_ms))


async def release_return(client: redis.asyncio.Redis, ticket_id: str, owner: str) -> None:
    """Rasa could not be told: give the lease up so the next try can happen at once."""
    await run_script(client, _RELEASE, _RELEASE_SHA, [returning_key(ticket_id)], [owner])


async def ack_returned(client: redis.asyncio.Redis, ticket_id: str, now: float | None = None) -> bool:
    """Rasa has resumed after the close (step 3). True the first time, False if already acknowledged;
    ``Conflict`` if the ticket is not closed."""
    now = time.time() if now is None else now

    def change(t: HandoffTicket) -> tuple[HandoffTicket, Sequence[Op]]:
        if t.status != TicketStatus.closed:
            raise Conflict(f"ticket {t.id} is {t.status.value}")
        if t.returned_at is not None:
            raise _Done
        new = t.model_copy(update={"returned_at": now, "updated_at": now})
        return new, [
            ("DELIFEQ", sender_key(t.sender), t.id),
            ("DEL", returning_key(t.id)),
            event_op(EventKind.returned, new, now, return_to_bot=bool(t.returned_to_bot)),
        ]

    try:
        await update(client, ticket_id, change)
    except _Done:
        return False
    return True


class _Done(Exception):  # noqa: N818 - internal: already acknowledged
    pass


class _Same(Exception):  # noqa: N818 - internal: this very request was already applied
    def __init__(self, ticket: HandoffTicket) -> None:
        self.ticket = ticket
