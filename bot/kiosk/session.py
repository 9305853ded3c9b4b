"""Kiosk sessions: the server makes each conversation's sender id, and ends it for the next person.

Key: ``yjs:kiosk:session:<sender>``  string ``"1"`` with an expiry (``SESSION_TTL_SECONDS``): the
sender ids this gateway issued and that were not ended yet. Sender ids are ``kiosk-`` +
``secrets.token_urlsafe(16)``: unguessable, so nobody reaches another person's conversation.

``end_session`` (the kiosk was left alone, or the next person pressed 重新开始):

- an open handoff ticket (waiting or taken) gets a line for staff in its transcript
  (``messages.KIOSK_LEFT_NOTE``) and is resumed (``records.handback.mark_resumed``, reason
  ``asked``: out of the queue, event ``resumed``), Rasa is told to resume, and the sender link goes;
- the conversation's inbox stream and remembered buttons are deleted, and Rasa gets a ``restart``
  event, so nothing of it is left to show;
- the session key is deleted: the id is never accepted by ``/api/kiosk/session/end`` again.
"""

from __future__ import annotations

import logging
import re
import secrets
from typing import Any

import redis.asyncio
from redis.exceptions import RedisError

from bot import buttons, messages
from bot.conversation import KIOSK_PREFIX, conversation_id
from records import handback, inbox, tickets
from records.errors import Conflict, NotFound
from records.ticket_model import OPEN_STATUSES

log = logging.getLogger(__name__)

PREFIX = "yjs:kiosk:session:"
SESSION_TTL_SECONDS = 24 * 3600
SENDER = re.compile(re.escape(KIOSK_PREFIX) + r"[A-Za-z0-9_-]{22}")


def session_key(sender: str) -> str:
    return f"{PREFIX}{sender}"


def is_kiosk_sender(value: Any) -> bool:
    return isinstance(value, str) and bool(SENDER.fullmatch(value))


async def new_session(client: redis.asyncio.Redis) -> str:
    sender = KIOSK_PREFIX + secrets.token_urlsafe(16)
    await client.set(session_key(sender), "1", ex=SESSION_TTL_SECONDS)
    return sender


async def end_session(gateway: Any, sender: str) -> dict[str, Any]:
    """End a kiosk conversation; ``{"ended": bool, "handoff": "resumed" | None}``.
    ``ended`` is False when the id was not an open kiosk session (unknown, or ended already)."""
    client: redis.asyncio.Redis = gateway.redis
    if not await client.delete(session_key(sender)):
        return {"ended": False, "handoff": None}
    conversation = conversation_id(sender)
    handoff = await _leave_ticket(gateway, conversation)
    await client.delete(inbox.inbox_key(conversation), buttons.key(conversation))
    if not await gateway.rasa.append_events(conversation, [{"event": "restart"}]):
        log.warning("kiosk session end: rasa could not be told to restart")
    return {"ended": True, "handoff": handoff}


async def _leave_ticket(gateway: Any, conversation: str) -> str | None:
    client: redis.asyncio.Redis = gateway.redis
    ticket = await tickets.ticket_for_sender(client, conversation)
    if ticket is None or ticket.status not in OPEN_STATUSES:
        return None
    try:
        await handback.add_citizen_message(client, ticket.id, messages.KIOSK_LEFT_NOTE)
        ticket = await handback.mark_resumed(client, ticket.id, "asked", rasa_told=False)
    except (Conflict, NotFound, RedisError) as exc:  # staff closed it at this moment: the hand-back follows
        log.info("kiosk session end: ticket %s not resumed (%s)", ticket.id, type(exc).__name__)
        return None
    if await gateway.rasa.resume(conversation):
        await handback.release_sender(client, ticket)
    return "resumed"
