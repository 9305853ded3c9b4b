"""Giving a conversation back to the assistant after staff closed its ticket (docs/handoff.md).

One decision, used by both ways in: the gateway's event follower (``bot.handoff.live``: a ``closed``
event, before the person writes again) and the router (the person wrote first). The protocol is
``records.handback``'s:

1. ``try_begin_return``: a lease, so that of all gateway processes exactly one goes on;
2. a close as 无法办理 (``cannot_do``) files a 办不成事 case once (its number goes on the ticket);
3. Rasa is told: ``resume``, the slots (``current_thing`` from the ticket, ``served_by`` = staff when
   staff gave the conversation back) and ``action_listen``; with ``returned_to_bot``, then the intent
   ``staff_handed_back``, whose rule runs ``action_staff_handed_back`` (thanks, the assistant is back,
   the five rating buttons);
4. the assistant's messages are remembered as offered buttons (``bot.buttons``) and, from the event
   follower, put into the person's inbox (``records.inbox``, ``from: assistant``);
5. ``ack_returned``. If Rasa could not be told, the lease is given up and the next try (the person's
   next message, or another process) does it again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import redis
import redis.asyncio

from bot import messages
from bot.buttons import ButtonMemory
from bot.rasa_client import RasaClient
from records import handback, inbox, tickets
from records.client import sync_client
from records.inbox import InboxButton
from records.ticket_model import CloseOutcome, HandoffTicket

log = logging.getLogger(__name__)

HANDED_BACK_INTENT = "staff_handed_back"
SERVED_BY_SLOT = "served_by"
SERVED_BY_STAFF = "staff"
THING_SLOT = "current_thing"
WAIT_FOR_OTHER_SECONDS = 5.0  # the router waits this long for another process's hand-back


def process_owner() -> str:
    """This gateway process, as the holder of a hand-back lease."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class HandBackResult:
    status: Literal["done", "elsewhere", "failed"]  # elsewhere: another process has it, or had it
    replies: list[dict[str, Any]] = field(default_factory=list)  # recipient_id = the conversation id


def rasa_events(ticket: HandoffTicket) -> list[dict[str, Any]]:
    """What Rasa is told before the assistant speaks again: resume, what staff left it, listen."""
    events: list[dict[str, Any]] = [{"event": "resume"}]
    if ticket.current_thing is not None:
        events.append({"event": "slot", "name": THING_SLOT, "value": ticket.current_thing.code})
    if ticket.returned_to_bot:
        events.append({"event": "slot", "name": SERVED_BY_SLOT, "value": SERVED_BY_STAFF})
    events.append({"event": "action", "name": "action_listen"})
    return events


def _buttons(reply: dict[str, Any]) -> list[InboxButton]:
    raw = reply.get("buttons") or []
    return [InboxButton(title=str(b.get("title", "")), payload=str(b.get("payload", ""))) for b in raw if isinstance(b, dict)]


class HandBack:
    def __init__(
        self,
        client: redis.asyncio.Redis,
        rasa: RasaClient,
        buttons: ButtonMemory,
        redis_url: str,
        owner: str | None = None,
    ) -> None:
        self._redis = client
        self._rasa = rasa
        self._buttons = buttons
        self._redis_url = redis_url
        self.owner = owner or process_owner()

    @cached_property
    def _sync_redis(self) -> redis.Redis:  # case_store is blocking: used from a worker thread
        return sync_client(self._redis_url)

    def close(self) -> None:
        if "_sync_redis" in self.__dict__:
            self._sync_redis.close()

    async def run(self, ticket_id: str, *, to_inbox: bool) -> HandBackResult:
        ticket = await tickets.get_ticket(self._redis, ticket_id)
        if ticket is None or not ticket.resume_pending:
            return HandBackResult("elsewhere")
        if not await handback.try_begin_return(self._redis, ticket.id, self.owner):
            return HandBackResult("elsewhere")
        try:
            return await self._hand_back(ticket, to_inbox)
        except Exception:
            await handback.release_return(self._redis, ticket.id, self.owner)
            raise

    async def _hand_back(self, ticket: HandoffTicket, to_inbox: bool) -> HandBackResult:
        conversation = ticket.sender
        notices: list[dict[str, Any]] = []
        if ticket.outcome == CloseOutcome.cannot_do:
            case_id = ticket.case_id
            if case_id is None:
                case = await asyncio.to_thread(handback.file_cannot_do_case_sync, self._sync_redis, ticket)
                ticket = await handback.set_case_id(self._redis, ticket.id, case.id)
                case_id = case.id
                log.info("ticket %s closed as cannot_do: case %s filed", ticket.id, case_id)
            notices.append({"recipient_id": conversation, "text": messages.handback_case_filed(case_id)})
        if not await self._rasa.append_events(conversation, rasa_events(ticket)):
            await handback.release_return(self._redis, ticket.id, self.owner)
            return HandBackResult("failed")
        replies: list[dict[str, Any]] = []
        if ticket.returned_to_bot:
            said = await self._rasa.trigger_intent(conversation, HANDED_BACK_INTENT)
            if said is None:
                await handback.release_return(self._redis, ticket.id, self.owner)
                return HandBackResult("failed")
            replies = said
            await self._buttons.remember(conversation, replies)
        if to_inbox and (notices or replies):
            now = time.time()
            entries: list[tuple[inbox.From, str, list[InboxButton]]] = [("system", n["text"], []) for n in notices]
            entries += [("assistant", str(r.get("text") or ""), _buttons(r)) for r in replies if r.get("text")]
            await inbox.add_messages(self._redis, conversation, entries, ticket.id, now)
        if not await handback.ack_returned(self._redis, ticket.id):
            log.warning("ticket %s: hand-back acknowledged twice", ticket.id)
        log.info("ticket %s handed back to the assistant (rating asked: %s)", ticket.id, bool(ticket.returned_to_bot))
        return HandBackResult("done", notices + replies)

    async def wait_returned(self, ticket_id: str, seconds: float = WAIT_FOR_OTHER_SECONDS) -> bool:
        """Wait (polling) until another process acknowledged the hand-back; False after ``seconds``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            ticket = await tickets.get_ticket(self._redis, ticket_id)
            if ticket is None or not ticket.resume_pending:
                return True
            await asyncio.sleep(0.2)
        return False
