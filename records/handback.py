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

The person's side while a ticket is open: ``add_citizen_message`` (transcript line + event
``citizen_message``) and ``mark_resumed`` (the person went back to the assistant) are compare-and-set
writes that publish their event and never overwrite a claim or a close made at the same moment.
``release_sender`` drops the sender link of a ticket resumed earlier once Rasa was finally told.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Literal

import redis
import redis.asyncio

from records import case_store
from records.cas import AlreadyApplied, Op, run_script, script_sha
from records.case_model import Case, CaseKind
from records.errors import Conflict
from records.events import EventKind, event_op
from records.inbox import INBOX_MAXLEN, INBOX_TTL_SECONDS, inbox_key
from records.ticket_model import OPEN_STATUSES, HandoffTicket, TicketStatus, TranscriptLine
from records.tickets import CLAIMED_KEY, PREFIX, QUEUE_KEY, returning_key, sender_key, update, update_once

RETURN_LEASE_MS = 30_000
TOLD_PLACE_TTL_SECONDS = 24 * 3600


def told_place_key(ticket_id: str) -> str:
    """The last queue place the person was told (string with expiry; ``tell_place``)."""
    return f"{PREFIX}told_place:{ticket_id}"


# Set the told place and add the inbox message only when the place changed: of several gateway
# processes reacting to the same event, exactly one tells the person.
_TELL_PLACE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'from', 'system', 'text', ARGV[4], 'ticket', ARGV[5], 'ts', ARGV[6])
redis.call('EXPIRE', KEYS[2], ARGV[7])
return 1
"""
_TELL_PLACE_SHA = script_sha(_TELL_PLACE)


async def tell_place(
    client: redis.asyncio.Redis, ticket: HandoffTicket, place: int, text: str, now: float | None = None
) -> bool:
    """Put ``text`` (the person's place and wait) into their inbox unless they were already told this
    place; True when this call told them."""
    now = time.time() if now is None else now
    keys = [told_place_key(ticket.id), inbox_key(ticket.sender)]
    args = [str(place), TOLD_PLACE_TTL_SECONDS, INBOX_MAXLEN, text, ticket.id, repr(float(now)), INBOX_TTL_SECONDS]
    return bool(await run_script(client, _TELL_PLACE, _TELL_PLACE_SHA, keys, args))

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
            raise AlreadyApplied(t)  # a retried request
        if t.status not in OPEN_STATUSES:
            raise Conflict(f"ticket {t.id} is {t.status.value}")
        new = t.model_copy(update={"transcript": [*t.transcript, line], "updated_at": now})
        return new, [event_op(EventKind.citizen_message, new, now, text=text)]

    return await update_once(client, ticket_id, change)


async def mark_resumed(
    client: redis.asyncio.Redis,
    ticket_id: str,
    reason: Literal["asked", "timeout"],
    rasa_told: bool,
    now: float | None = None,
    expect: TicketStatus | None = None,
) -> HandoffTicket:
    """The person went back to the assistant before staff finished: out of the queue / claimed index;
    the sender link goes once Rasa was told. ``Conflict`` if staff closed it (or it resumed) first, or
    when ``expect`` is given and the ticket is no longer in that status (a timeout loses to a claim)."""
    now = time.time() if now is None else now

    def change(t: HandoffTicket) -> tuple[HandoffTicket, Sequence[Op]]:
        if t.status == TicketStatus.resumed and t.resumed_reason == reason and t.updated_at == now:
            raise AlreadyApplied(t)  # a retried request
        if t.status not in OPEN_STATUSES or (expect is not None and t.status != expect):
            raise Conflict(f"ticket {t.id} is {t.status.value}")
        new = t.model_copy(update={"status": TicketStatus.resumed, "resumed_reason": reason, "updated_at": now})
        ops: list[Op] = [("ZREM", QUEUE_KEY, t.id), ("ZREM", CLAIMED_KEY, t.id)]
        if rasa_told:
            ops.append(("DELIFEQ", sender_key(t.sender), t.id))
        ops.append(event_op(EventKind.resumed, new, now, reason=reason, staff=t.staff))
        return new, ops

    return await update_once(client, ticket_id, change)


async def release_sender(client: redis.asyncio.Redis, ticket: HandoffTicket) -> None:
    """Drop the conversation's link to ``ticket`` (only if it still points at this very ticket)."""
    await run_script(client, _RELEASE, _RELEASE_SHA, [sender_key(ticket.sender)], [ticket.id])


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




# --- 无法办理: the 办不成事 case a close with outcome cannot_do files ------------------------------------

_ROLE_LABELS = {"user": "群众", "bot": "小助手", "staff": "工作人员"}
SUMMARY_LINES = 8
SUMMARY_CHARS = 1_500


def transcript_summary(ticket: HandoffTicket) -> str:
    """The staff note and the last lines of the conversation, for the 办不成事 window."""
    parts = [f"工作人员备注：{ticket.staff_note}"] if ticket.staff_note else []
    parts += [f"{_ROLE_LABELS.get(line.role, line.role)}：{line.text}" for line in ticket.transcript[-SUMMARY_LINES:]]
    text = "\n".join(parts)
    return text if len(text) <= SUMMARY_CHARS else "…" + text[-SUMMARY_CHARS:]


def file_cannot_do_case_sync(client: redis.Redis, ticket: HandoffTicket, now: float | None = None) -> Case:
    """File the 办不成事 case of a ticket closed as 无法办理 (blocking client: run it in a thread).

    It carries the ticket's context: the matter (``current_thing``, else the person's words), a
    summary of the conversation and the staff note, and the contact only when the person consented."""
    now = time.time() if now is None else now
    thing = ticket.current_thing
    case = Case(
        id=case_store.new_case_id(client, CaseKind.bancheng, now),
        created_at=now,
        kind=CaseKind.bancheng,
        channel=ticket.channel,
        sender=ticket.sender,
        current_thing=thing.code if thing else None,
        matter=thing.title if thing else ticket.why,
        place="县政务服务中心（帮代办，工作人员确认无法办理）",
        story=transcript_summary(ticket),
        contact_consent=bool(ticket.consent and ticket.contact),
        contact=ticket.contact if ticket.consent else None,
        ticket_id=ticket.id,
    )
    case_store.save_case(client, case)
    return case


async def set_case_id(client: redis.asyncio.Redis, ticket_id: str, case_id: str, now: float | None = None) -> HandoffTicket:
    """Remember on the ticket the case filed for it (so a retried hand-back does not file another)."""
    now = time.time() if now is None else now

    def change(t: HandoffTicket) -> tuple[HandoffTicket, Sequence[Op]]:
        if t.case_id == case_id:
            raise AlreadyApplied(t)
        return t.model_copy(update={"case_id": case_id, "updated_at": now}), []

    return await update_once(client, ticket_id, change)
