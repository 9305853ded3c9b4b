"""The staff side of the handoff queue: claim, heartbeat, requeue, close, messages, notes, position.

All functions are async (redis.asyncio) and atomic per ticket (``records.tickets.update``: one Lua
compare-and-set with the index, inbox and event updates). Keys: see ``records.tickets`` (tickets,
queue, claimed / closed indexes, staff_seen, pickups), ``records.inbox`` and ``records.events``.

Rules:

- ``claim``: only a ``waiting`` ticket; it becomes ``picked_up`` (``staff``, ``claimed_at``), leaves the
  queue, enters ``yjs:handoff:claimed``. A second claim by the same staff member returns the ticket
  (a retried request); anyone else gets ``Conflict`` (HTTP 409), an unknown id ``NotFound`` (404).
- ``heartbeat``: the console calls it about every 15 s; a claim counts as one.
- ``requeue_abandoned``: a ticket whose staff member has shown no sign of life for longer than the
  timeout goes back to ``waiting`` with its original queue score (priority and age kept), staff cleared.
  The compare-and-set makes a racing ``close`` win or lose cleanly: a closed ticket is never requeued.
- ``close``: only the claiming staff member, only a ``picked_up`` ticket. The sender link stays: the
  gateway hands the conversation back to Rasa and acknowledges (``records.handback``).
- ``add_staff_message``: transcript line (role ``staff``), the person's inbox, an event.
- ``add_note``: private; never in the inbox, and its event carries no text.

Wait estimate (``position``, ``estimated_wait``): ``place × seconds per place``, where seconds per
place is the mean interval between the recent pickups (those within ``PICKUP_WINDOW_SECONDS``, at
least 2 needed), never below ``MIN_SECONDS_PER_PLACE``; with less history ``DEFAULT_SECONDS_PER_PLACE``
(5 minutes).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import redis.asyncio
from pydantic import BaseModel

from records.cas import AlreadyApplied, Op
from records.errors import Conflict, Invalid, NotFound
from records.events import EventKind, event_op
from records.inbox import inbox_ops, read_inbox
from records.ticket_model import CloseOutcome, HandoffTicket, StaffNote, TicketStatus, TranscriptLine
from records.tickets import (
    CLAIMED_KEY,
    CLOSED_KEY,
    PICKUPS_KEPT,
    PICKUPS_KEY,
    QUEUE_KEY,
    STAFF_SEEN_KEY,
    get_ticket,
    get_tickets,
    queue_score,
    update,
    update_once,
)

DEFAULT_SECONDS_PER_PLACE = 300.0
MIN_SECONDS_PER_PLACE = 60.0
PICKUP_WINDOW_SECONDS = 2 * 3600.0
DEFAULT_ABANDON_SECONDS = 90.0  # no heartbeat for this long: the claim is given up (console: every 15 s)
MAX_TEXT = 4_000  # characters in one staff message or note

# What the person sees in their inbox (short, warm Simplified Chinese).
CLAIMED_TEXT = "工作人员已经接手，正在看您的情况，请稍等。"
REQUEUED_TEXT = "刚才的工作人员临时走开了，您还在队伍里，顺序不变，请再稍等。"
CLOSED_TEXT = "本次人工服务结束了，谢谢您的耐心。"


class QueuePosition(BaseModel):
    place: int  # 1 = next to be served
    ahead: int  # tickets served before this one
    estimated_wait_seconds: int


@dataclass(frozen=True)
class Sent:
    ticket: HandoffTicket
    inbox_id: str  # the id ``read_inbox`` returns for this message




def _clean_text(text: str, what: str) -> str:
    text = text.strip()
    if not text:
        raise Invalid(f"empty {what}", message="内容不能为空。")
    if len(text) > MAX_TEXT:
        raise Invalid(f"{what} too long", message=f"内容太长了，请控制在{MAX_TEXT}字以内。")
    return text


def _check_staff(staff: str) -> None:
    if not staff:
        raise Invalid("no staff member")


async def claim(client: redis.asyncio.Redis, ticket_id: str, staff: str, now: float | None = None) -> HandoffTicket:
    _check_staff(staff)
    now = time.time() if now is None else now

    def change(t: HandoffTicket) -> tuple[HandoffTicket, Sequence[Op]]:
        if t.status == TicketStatus.picked_up and t.staff == staff:
            raise AlreadyApplied(t)
        if t.status != TicketStatus.waiting:
            raise Conflict(f"ticket {t.id} is {t.status.value}")
        new = t.model_copy(
            update={"status": TicketStatus.picked_up, "staff": staff, "claimed_at": now, "updated_at": now}
        )
        return new, [
            ("ZREM", QUEUE_KEY, t.id),
            ("ZADD", CLAIMED_KEY, repr(now), t.id),
            ("ZADD", STAFF_SEEN_KEY, repr(now), staff),
            ("LPUSH", PICKUPS_KEY, f"{t.created_at!r} {now!r}"),
            ("LTRIM", PICKUPS_KEY, 0, PICKUPS_KEPT - 1),
            *inbox_ops(t.sender, "system", CLAIMED_TEXT, t.id, now),
            event_op(EventKind.claimed, new, now, staff=staff),
        ]

    return await update_once(client, ticket_id, change)


async def heartbeat(client: redis.asyncio.Redis, staff: str, now: float | None = None) -> None:
    _check_staff(staff)
    await client.zadd(STAFF_SEEN_KEY, {staff: time.time() if now is None else now})


async def requeue_abandoned(
    client: redis.asyncio.Redis, now: float | None = None, timeout_seconds: float = DEFAULT_ABANDON_SECONDS
) -> list[str]:
    """Put back in the queue every claimed ticket whose staff member went silent; their ids."""
    now = time.time() if now is None else now
    ids = [i.decode() if isinstance(i, bytes) else i for i in await client.zrange(CLAIMED_KEY, 0, -1)]
    requeued: list[str] = []
    for ticket in await get_tickets(client, ids):
        if ticket.status != TicketStatus.picked_up:  # resumed or closed by someone else: tidy the index
            await client.zrem(CLAIMED_KEY, ticket.id)
            continue
        seen = await client.zscore(STAFF_SEEN_KEY, ticket.staff or "")
        last_sign = max(float(seen or 0.0), ticket.claimed_at or 0.0)
        if now - last_sign <= timeout_seconds:
            continue
        if await _requeue(client, ticket, now):
            requeued.append(ticket.id)
    return requeued


async def _requeue(client: redis.asyncio.Redis, seen: HandoffTicket, now: float) -> bool:
    def change(t: HandoffTicket) -> tuple[HandoffTicket, Sequence[Op]]:
        # Only the very claim we judged abandoned: not a ticket closed, resumed or re-claimed meanwhile.
        if t.status != TicketStatus.picked_up or t.staff != seen.staff or t.claimed_at != seen.claimed_at:
            raise Conflict(f"ticket {t.id} changed")
        new = t.model_copy(
            update={"status": TicketStatus.waiting, "staff": None, "claimed_at": None, "requeued_at": now, "updated_at": now}
        )
        return new, [
            ("ZREM", CLAIMED_KEY, t.id),
            ("ZADD", QUEUE_KEY, repr(queue_score(t)), t.id),
            *inbox_ops(t.sender, "system", REQUEUED_TEXT, t.id, now),
            event_op(EventKind.requeued, new, now, staff=seen.staff),
        ]

    try:
        await update(client, seen.id, change)
    except (Conflict, NotFound):
        return False
    return True


async def close(
    client: redis.asyncio.Redis,
    ticket_id: str,
    staff: str,
    outcome: CloseOutcome | str,
    note: str | None = None,
    return_to_bot: bool = True,
    now: float | None = None,
) -> HandoffTicket:
    _check_staff(staff)
    try:
        outcome = CloseOutcome(outcome)
    except ValueError as exc:
        raise Invalid(f"unknown outcome {outcome!r}", message="请选择办理结果。") from exc
    note = note.strip() if note else None
    if note and len(note) > MAX_TEXT:
        raise Invalid("note too long", message=f"备注太长了，请控制在{MAX_TEXT}字以内。")
    now = time.time() if now is None else now

    def change(t: HandoffTicket) -> tuple[HandoffTicket, Sequence[Op]]:
        if t.status == TicketStatus.closed and t.staff == staff and t.outcome == outcome:
            raise AlreadyApplied(t)  # a retried request
        if t.status != TicketStatus.picked_up:
            raise Conflict(f"ticket {t.id} is {t.status.value}")
        if t.staff != staff:
            raise Conflict(f"ticket {t.id} belongs to another staff member", message="这张单子由其他工作人员在处理。")
        new = t.model_copy(
            update={
                "status": TicketStatus.closed,
                "closed_at": now,
                "outcome": outcome,
                "staff_note": note,
                "returned_to_bot": return_to_bot,
                "returned_at": None,
                "updated_at": now,
            }
        )
        return new, [
            ("ZREM", CLAIMED_KEY, t.id),
            ("ZREM", QUEUE_KEY, t.id),
            ("ZADD", CLOSED_KEY, repr(now), t.id),
            *inbox_ops(t.sender, "system", CLOSED_TEXT, t.id, now),
            event_op(EventKind.closed, new, now, staff=staff, outcome=outcome.value, return_to_bot=return_to_bot),
        ]

    return await update_once(client, ticket_id, change)


async def add_staff_message(
    client: redis.asyncio.Redis, ticket_id: str, staff: str, text: str, now: float | None = None
) -> Sent:
    """A message from the claiming staff member to the person (transcript, inbox, event)."""
    _check_staff(staff)
    text = _clean_text(text, "message")
    now = time.time() if now is None else now

    line = TranscriptLine(role="staff", text=text, ts=now, staff=staff)

    def change(t: HandoffTicket) -> tuple[HandoffTicket, Sequence[Op]]:
        if t.transcript and t.transcript[-1] == line:
            raise AlreadyApplied(t)  # a retried request
        if t.status != TicketStatus.picked_up or t.staff != staff:
            raise Conflict(f"ticket {t.id} is not picked up by {staff}", message="请先接手这张单子再回复。")
        new = t.model_copy(update={"transcript": [*t.transcript, line], "updated_at": now})
        return new, [
            *inbox_ops(t.sender, "staff", text, t.id, now),
            event_op(EventKind.staff_message, new, now, staff=staff, text=text),
        ]

    try:
        ticket, replies = await update(client, ticket_id, change)
    except AlreadyApplied as same:
        return Sent(ticket=same.record, inbox_id=await _inbox_id(client, same.record, line))
    inbox_id = replies[0]
    return Sent(ticket=ticket, inbox_id=inbox_id.decode() if isinstance(inbox_id, bytes) else str(inbox_id))


async def _inbox_id(client: redis.asyncio.Redis, ticket: HandoffTicket, line: TranscriptLine) -> str:
    """The inbox entry of a message already sent (found among the latest entries)."""
    for message in reversed(await read_inbox(client, ticket.sender)):
        if message.ticket == ticket.id and message.text == line.text and message.ts == line.ts:
            return message.id
    return ""


async def add_note(
    client: redis.asyncio.Redis, ticket_id: str, staff: str, text: str, now: float | None = None
) -> HandoffTicket:
    """A private note (any staff member, any status); never shown to the person."""
    _check_staff(staff)
    text = _clean_text(text, "note")
    now = time.time() if now is None else now

    note = StaffNote(staff=staff, text=text, ts=now)

    def change(t: HandoffTicket) -> tuple[HandoffTicket, Sequence[Op]]:
        if t.notes and t.notes[-1] == note:
            raise AlreadyApplied(t)  # a retried request
        new = t.model_copy(update={"notes": [*t.notes, note], "updated_at": now})
        return new, [event_op(EventKind.note, new, now, staff=staff)]

    return await update_once(client, ticket_id, change)


def _status(status: TicketStatus | str) -> TicketStatus:
    if status == "claimed":
        return TicketStatus.picked_up
    try:
        return TicketStatus(status)
    except ValueError as exc:
        raise Invalid(f"unknown status {status!r}") from exc


async def list_tickets(
    client: redis.asyncio.Redis, status: TicketStatus | str, since: float | None = None, limit: int = 200
) -> list[HandoffTicket]:
    """Tickets of one status: ``waiting`` in queue order, ``picked_up`` (alias ``claimed``) oldest claim
    first, ``closed`` newest first (closed at or after ``since`` when given)."""
    wanted = _status(status)
    if wanted == TicketStatus.waiting:
        ids = await client.zrange(QUEUE_KEY, 0, limit - 1)
    elif wanted == TicketStatus.picked_up:
        ids = await client.zrange(CLAIMED_KEY, 0, limit - 1)
    elif wanted == TicketStatus.closed:
        low = "-inf" if since is None else repr(float(since))
        ids = await client.zrevrangebyscore(CLOSED_KEY, "+inf", low, start=0, num=limit)
    else:
        raise Invalid("resumed tickets are not listed")
    ids = [i.decode() if isinstance(i, bytes) else i for i in ids]
    return [t for t in await get_tickets(client, ids) if t.status == wanted]


async def _seconds_per_place(client: redis.asyncio.Redis, now: float) -> float:
    raw = await client.lrange(PICKUPS_KEY, 0, -1)
    claimed = sorted(
        c for c in (float((r.decode() if isinstance(r, bytes) else r).split()[1]) for r in raw)
        if now - PICKUP_WINDOW_SECONDS <= c <= now
    )
    if len(claimed) < 2:
        return DEFAULT_SECONDS_PER_PLACE
    return max(MIN_SECONDS_PER_PLACE, (claimed[-1] - claimed[0]) / (len(claimed) - 1))


async def position(client: redis.asyncio.Redis, ticket_id: str, now: float | None = None) -> QueuePosition | None:
    """Where a waiting ticket stands; None when it is not waiting (picked up, closed, resumed)."""
    now = time.time() if now is None else now
    ticket = await get_ticket(client, ticket_id)
    if ticket is None:
        raise NotFound(ticket_id)
    if ticket.status != TicketStatus.waiting:
        return None
    rank = await client.zrank(QUEUE_KEY, ticket_id)
    if rank is None:
        return None
    place = int(rank) + 1
    per_place = await _seconds_per_place(client, now)
    return QueuePosition(place=place, ahead=place - 1, estimated_wait_seconds=round(place * per_place))


async def estimated_wait(client: redis.asyncio.Redis, now: float | None = None) -> int:
    """The estimated wait (seconds) of a ticket created now: for offering an appointment instead."""
    now = time.time() if now is None else now
    place = int(await client.zcard(QUEUE_KEY)) + 1
    return round(place * await _seconds_per_place(client, now))
