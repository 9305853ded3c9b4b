"""Handoff tickets in Redis: sync functions for the action server, async ones for the gateway.

Keys (documented in docs/handoff.md; the staff console builds on them):

- ``yjs:handoff:ticket:<id>``        the ticket, JSON (``HandoffTicket``)
- ``yjs:handoff:queue``              sorted set of *waiting* ticket ids; ascending score = priority
                                     first, then oldest first (see :func:`queue_score`)
- ``yjs:handoff:by_sender:<sender>`` id of the sender's ticket the gateway still has to care about
                                     (waiting / picked up, or resumed while Rasa could not be told)

``sender`` here and on tickets is always the *conversation id* (``bot.conversation.conversation_id``
of the channel's sender id): the action server writes ``tracker.sender_id``, which is what the gateway
sent to Rasa, and the gateway looks tickets up by the same id. It is safe as a key as it is.
"""

from __future__ import annotations

import time

import redis
import redis.asyncio

from records.ticket_model import HandoffTicket, TicketStatus, TranscriptLine

PREFIX = "yjs:handoff:"
QUEUE_KEY = f"{PREFIX}queue"
# Priority tickets sort before every ordinary one (scores are unix seconds, ~1.8e9 today).
PRIORITY_OFFSET = 1e10


def ticket_key(ticket_id: str) -> str:
    return f"{PREFIX}ticket:{ticket_id}"


def sender_key(sender: str) -> str:
    return f"{PREFIX}by_sender:{sender}"


def queue_score(ticket: HandoffTicket) -> float:
    return ticket.created_at - (PRIORITY_OFFSET if ticket.priority else 0.0)


def _text(value: bytes | str | None) -> str | None:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _load(raw: bytes | str | None) -> HandoffTicket | None:
    text = _text(raw)
    return HandoffTicket.model_validate_json(text) if text else None


def _dump(ticket: HandoffTicket) -> str:
    return ticket.model_dump_json()


def _resumed(ticket: HandoffTicket, reason: str) -> HandoffTicket:
    return ticket.model_copy(
        update={"status": TicketStatus.resumed, "resumed_reason": reason, "updated_at": time.time()}
    )


# --- sync (action server, scripts) -------------------------------------------------------------------


def create_ticket(client: redis.Redis, ticket: HandoffTicket) -> None:
    """Store a new waiting ticket, queue it and make it the sender's open ticket (one transaction)."""
    with client.pipeline(transaction=True) as pipe:
        pipe.set(ticket_key(ticket.id), _dump(ticket))
        pipe.zadd(QUEUE_KEY, {ticket.id: queue_score(ticket)})
        pipe.set(sender_key(ticket.sender), ticket.id)
        pipe.execute()


def get_ticket(client: redis.Redis, ticket_id: str) -> HandoffTicket | None:
    return _load(client.get(ticket_key(ticket_id)))


def ticket_for_sender(client: redis.Redis, sender: str) -> HandoffTicket | None:
    ticket_id = _text(client.get(sender_key(sender)))
    return get_ticket(client, ticket_id) if ticket_id else None


def queued_ids(client: redis.Redis) -> list[str]:
    """Waiting ticket ids, the one to serve first first."""
    return [_text(i) or "" for i in client.zrange(QUEUE_KEY, 0, -1)]


# --- async (gateway) ---------------------------------------------------------------------------------


async def aget_ticket(client: redis.asyncio.Redis, ticket_id: str) -> HandoffTicket | None:
    return _load(await client.get(ticket_key(ticket_id)))


async def aticket_for_sender(client: redis.asyncio.Redis, sender: str) -> HandoffTicket | None:
    ticket_id = _text(await client.get(sender_key(sender)))
    return await aget_ticket(client, ticket_id) if ticket_id else None


async def aappend_transcript(client: redis.asyncio.Redis, ticket: HandoffTicket, line: TranscriptLine) -> HandoffTicket:
    """Add a line to the ticket's transcript (re-read under WATCH so concurrent writers do not lose it)."""
    key = ticket_key(ticket.id)
    async with client.pipeline(transaction=True) as pipe:
        while True:
            try:
                await pipe.watch(key)
                current = _load(await pipe.get(key)) or ticket
                updated = current.model_copy(
                    update={"transcript": [*current.transcript, line], "updated_at": time.time()}
                )
                pipe.multi()
                pipe.set(key, _dump(updated))
                await pipe.execute()
                return updated
            except redis.WatchError:
                continue


async def amark_resumed(
    client: redis.asyncio.Redis, ticket: HandoffTicket, reason: str, *, rasa_told: bool
) -> HandoffTicket:
    """The person is back with the assistant: out of the queue; the sender link is dropped once Rasa
    was told to resume (otherwise kept, so the gateway retries the resume on the next message)."""
    updated = _resumed(ticket, reason)
    async with client.pipeline(transaction=True) as pipe:
        pipe.set(ticket_key(ticket.id), _dump(updated))
        pipe.zrem(QUEUE_KEY, ticket.id)
        if rasa_told:
            pipe.delete(sender_key(ticket.sender))
        await pipe.execute()
    return updated


async def arelease_sender(client: redis.asyncio.Redis, sender: str) -> None:
    await client.delete(sender_key(sender))
