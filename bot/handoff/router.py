"""The gateway side of a handoff: what happens to a message while its sender waits for staff.

``route`` is called before a message goes to Rasa. No open ticket -> ``None`` (forward as usual).
Otherwise, with the ticket still waiting or picked up:

- the person asks for the assistant back (``phrases.asks_for_bot``), or the ticket has waited
  ``handoff_wait_seconds`` without pickup -> the ticket is marked resumed (out of the queue), Rasa is
  told ``{"event": "resume"}`` and the person is told the assistant is back; after a timeout the
  message itself then goes on to Rasa;
- else the message is added to the ticket's transcript and the person is asked to wait.

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
from records import ticket_store as store
from records.handoff_phrases import asks_for_bot
from records.ticket_model import HandoffTicket, TicketStatus, TranscriptLine

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
) -> Routed | None:
    now = time.time() if now is None else now
    try:
        ticket = await store.aticket_for_sender(client, sender)
    except (RedisError, ValueError) as exc:  # Redis down or an unreadable ticket: the assistant answers
        log.warning("handoff lookup failed: %s", type(exc).__name__)
        return None
    if ticket is None:
        return None
    try:
        return await _route_ticket(client, rasa, ticket, message, wait_seconds, now)
    except RedisError as exc:
        log.warning("handoff update failed: %s", type(exc).__name__)
        return Routed([_reply(sender, messages.RASA_UNAVAILABLE, ticket)])


async def _route_ticket(
    client: redis.asyncio.Redis,
    rasa: Resumer,
    ticket: HandoffTicket,
    message: str,
    wait_seconds: float,
    now: float,
) -> Routed | None:
    sender = ticket.sender
    if ticket.status == TicketStatus.resumed:  # resumed earlier, but Rasa could not be told then
        if await rasa.resume(sender):
            await store.arelease_sender(client, sender)
            return Routed(forward=True)
        return Routed([_reply(sender, messages.RASA_UNAVAILABLE, ticket)])
    if not ticket.is_open:  # closed by staff: nothing left to do for the gateway
        await store.arelease_sender(client, sender)
        return None

    back = asks_for_bot(message)
    timed_out = ticket.status == TicketStatus.waiting and ticket.waited(now) >= wait_seconds
    if back or timed_out:
        told = await rasa.resume(sender)
        ticket = await store.amark_resumed(client, ticket, "asked" if back else "timeout", rasa_told=told)
        text = messages.HANDOFF_BOT_BACK if back else messages.HANDOFF_TIMEOUT
        if not told:
            text += messages.HANDOFF_RESUME_PENDING
        return Routed([_reply(sender, text, ticket, reason=ticket.resumed_reason)], forward=told and not back)

    await store.aappend_transcript(client, ticket, TranscriptLine(role="user", text=message, ts=now))
    text = messages.HANDOFF_PICKED_UP if ticket.status == TicketStatus.picked_up else messages.HANDOFF_WAITING
    return Routed([_reply(sender, text, ticket)])
