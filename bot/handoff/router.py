"""The gateway side of a handoff: what happens to a message while its sender waits for staff.

``route`` is called before a message goes to Rasa. No ticket linked to the conversation -> ``None``
(forward as usual). Otherwise:

- ticket ``waiting`` or ``picked_up``:
  - the person asks for the assistant back (``phrases.asks_for_bot``), or the ticket has waited
    ``handoff_wait_seconds`` without pickup -> ``records.handback.mark_resumed`` (out of the queue;
    refused if staff claimed or closed it at that moment: then the message is routed again), Rasa is
    told ``{"event": "resume"}`` and the person is told the assistant is back; after a timeout the
    message itself then goes on to Rasa;
  - else the message goes to staff live (``records.handback.add_citizen_message``: transcript line and
    a ``citizen_message`` event) and the person is asked to wait, with their place in the queue and
    the estimated wait while nobody has it (``records.staff_queue.position``);
- ticket ``closed`` with the hand-back still pending (the person wrote before the event follower did
  it): the hand-back runs here (``bot.handoff.handback``); its messages (the rating prompt) come first,
  then the message goes on to Rasa;
- ticket ``resumed`` but Rasa was not told then: tell it now, then forward.

When Rasa cannot be told to resume, the ticket still leaves the queue but stays linked to the
sender, and the resume is retried on the next message (so nobody stays stuck in a paused conversation).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import redis.asyncio
from redis.exceptions import RedisError

from bot import messages
from bot.handoff.handback import HandBack
from records import handback, staff_queue, tickets
from records.errors import Conflict, NotFound
from records.handoff_phrases import asks_for_bot
from records.ticket_model import HandoffTicket, TicketStatus

log = logging.getLogger(__name__)


class Resumer(Protocol):
    async def resume(self, sender: str) -> bool: ...


@dataclass(frozen=True)
class Routed:
    """The gateway's own replies; ``forward``: the message still goes to Rasa (replies come first)."""

    replies: list[dict[str, Any]] = field(default_factory=list)
    forward: bool = False


def _reply(sender: str, text: str, ticket: HandoffTicket, **extra: Any) -> dict[str, Any]:
    custom = {"handoff": {"ticket_id": ticket.id, "status": ticket.status.value, **extra}}
    return {"recipient_id": sender, "text": text, "custom": custom}


async def route(
    client: redis.asyncio.Redis,
    rasa: Resumer,
    sender: str,
    message: str,
    wait_seconds: float,
    now: float | None = None,
    hand_back: HandBack | None = None,
) -> Routed | None:
    now = time.time() if now is None else now
    try:
        ticket = await tickets.ticket_for_sender(client, sender)
    except (RedisError, ValueError) as exc:  # Redis down or an unreadable ticket: the assistant answers
        log.warning("handoff lookup failed: %s", type(exc).__name__)
        return None
    if ticket is None:
        return None
    try:
        for _ in range(3):  # a claim or a close at the same moment: route again with the new status
            try:
                return await _route_ticket(client, rasa, ticket, message, wait_seconds, now, hand_back)
            except Conflict:
                fresh = await tickets.get_ticket(client, ticket.id)
                if fresh is None:
                    return None
                ticket = fresh
        return Routed([_reply(sender, messages.RASA_UNAVAILABLE, ticket)])
    except (RedisError, NotFound) as exc:
        log.warning("handoff update failed: %s", type(exc).__name__)
        return Routed([_reply(sender, messages.RASA_UNAVAILABLE, ticket)])


async def place_text(client: redis.asyncio.Redis, ticket: HandoffTicket, now: float) -> tuple[str | None, dict[str, Any]]:
    """The person's place in the queue as a sentence, and as ``custom.handoff`` fields (waiting only)."""
    if ticket.status != TicketStatus.waiting:
        return None, {}
    pos = await staff_queue.position(client, ticket.id, now)
    if pos is None:
        return None, {}
    text = messages.queue_place(pos.ahead, pos.estimated_wait_seconds)
    return text, {"place": pos.place, "estimated_wait_seconds": pos.estimated_wait_seconds}


async def _route_ticket(
    client: redis.asyncio.Redis,
    rasa: Resumer,
    ticket: HandoffTicket,
    message: str,
    wait_seconds: float,
    now: float,
    hand_back: HandBack | None,
) -> Routed | None:
    sender = ticket.sender
    if ticket.status == TicketStatus.resumed:  # resumed earlier, but Rasa could not be told then
        if await rasa.resume(sender):
            await handback.release_sender(client, ticket)
            return Routed(forward=True)
        return Routed([_reply(sender, messages.RASA_UNAVAILABLE, ticket)])
    if ticket.status == TicketStatus.closed:
        return await _closed(client, ticket, hand_back)

    back = asks_for_bot(message)
    timed_out = ticket.status == TicketStatus.waiting and ticket.waited(now) >= wait_seconds
    if back or timed_out:
        reason = "asked" if back else "timeout"
        # The ticket first (a claim or close at this moment wins: Conflict, routed again), then Rasa;
        # the sender link stays until Rasa was told.
        ticket = await handback.mark_resumed(
            client, ticket.id, reason, rasa_told=False, now=now, expect=None if back else TicketStatus.waiting
        )
        told = await rasa.resume(sender)
        if told:
            await handback.release_sender(client, ticket)
        text = messages.HANDOFF_BOT_BACK if back else messages.HANDOFF_TIMEOUT
        if not told:
            text += messages.HANDOFF_RESUME_PENDING
        return Routed([_reply(sender, text, ticket, reason=ticket.resumed_reason)], forward=told and not back)

    ticket = await handback.add_citizen_message(client, ticket.id, message, now=now)
    if ticket.status == TicketStatus.picked_up:
        return Routed([_reply(sender, messages.HANDOFF_PICKED_UP, ticket)])
    place, extra = await place_text(client, ticket, now)
    return Routed([_reply(sender, messages.handoff_waiting(place), ticket, **extra)])


async def _closed(client: redis.asyncio.Redis, ticket: HandoffTicket, hand_back: HandBack | None) -> Routed | None:
    """Staff closed the ticket: hand the conversation back here if nobody did yet, then forward."""
    if not ticket.resume_pending:  # already handed back: only a stale link is left
        await handback.release_sender(client, ticket)
        return None
    if hand_back is None:
        return Routed([_reply(ticket.sender, messages.RASA_UNAVAILABLE, ticket)])
    result = await hand_back.run(ticket.id, to_inbox=False)
    if result.status == "done":
        return Routed(result.replies, forward=True)
    if result.status == "elsewhere" and await hand_back.wait_returned(ticket.id):
        return Routed(forward=True)
    return Routed([_reply(ticket.sender, messages.RASA_UNAVAILABLE, ticket)])
