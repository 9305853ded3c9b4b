"""The REST channel's inbox: what staff, the queue and the assistant (after a hand-back) say to a
person outside the replies to their own messages.

``GET /api/chat/{sender}/inbox?after=<id>&wait=<seconds>`` reads ``records.inbox``'s stream of the
conversation: the messages after ``after`` (all kept ones without it), oldest first. With ``wait``
(0..25 s) and nothing new, it waits that long for one (``XREAD BLOCK``, on a connection pool of its
own: ``INBOX_MAX_WAITING`` long-polls per process; beyond that a request answers at once). The sender
is validated and mapped exactly like ``POST /api/chat`` (``bot.conversation``); reads are rate-limited
(``bot.fairuse.FairUse.admit_inbox``). Any gateway process answers the same: the stream is in Redis.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from redis.exceptions import RedisError

from bot import messages
from bot.config import Settings
from bot.conversation import InvalidSender, check_sender, conversation_id
from bot.fairuse import Busy
from bot.schemas import ApiError, ErrorResponse
from records import inbox
from records.client import MAX_BLOCK_MS

log = logging.getLogger(__name__)

MAX_WAIT_SECONDS = 25
_ENTRY_ID = re.compile(r"\d{1,20}-\d{1,20}")


class InboxButtonOut(BaseModel):
    title: str
    payload: str


class InboxMessageOut(BaseModel):
    id: str = Field(description="stream id; pass the last one back as `after`")
    from_: str = Field(alias="from", description="staff | system | assistant")
    text: str
    ts: float = Field(description="unix seconds")
    buttons: list[InboxButtonOut] | None = None


class InboxResponse(BaseModel):
    messages: list[InboxMessageOut]
    last_id: str = Field(description="the id to pass as `after` next time")


def _message(m: inbox.InboxMessage) -> dict[str, Any]:
    out: dict[str, Any] = {"id": m.id, "from": m.sender, "text": m.text, "ts": m.ts}
    if m.buttons:
        out["buttons"] = [b.model_dump() for b in m.buttons]
    return out


def _wait(value: str | None) -> int:
    if value is None or not value.strip():
        return 0
    try:
        wait = int(value.strip())
    except ValueError:
        raise ApiError(422, "wrong_type", messages.INBOX_BAD_WAIT, "wait") from None
    if not 0 <= wait <= MAX_WAIT_SECONDS:
        raise ApiError(422, "out_of_range", messages.INBOX_BAD_WAIT, "wait")
    return wait


def _after(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    if not _ENTRY_ID.fullmatch(value.strip()):
        raise ApiError(422, "invalid_value", messages.INBOX_BAD_AFTER, "after")
    return value.strip()


def _sender(sender: str, settings: Settings) -> str:
    try:
        check_sender(sender, settings.sender_max_chars)
    except InvalidSender as exc:
        if exc.reason == "empty":
            raise ApiError(422, "empty_field", messages.empty_field("sender"), "sender") from None
        if exc.reason == "too_long":
            raise ApiError(422, "too_long", messages.sender_too_long(settings.sender_max_chars), "sender") from None
        raise ApiError(422, "invalid_value", messages.invalid_characters("sender"), "sender") from None
    return sender


def create_router(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["chat"])

    @router.get(
        "/api/chat/{sender:path}/inbox",
        response_model=InboxResponse,
        responses={
            422: {"model": ErrorResponse, "description": "bad sender, after or wait"},
            429: {"model": ErrorResponse, "description": "too many reads"},
            503: {"model": ErrorResponse, "description": "Redis unavailable"},
        },
    )
    async def read_inbox(
        request: Request,
        sender: Annotated[str, Path(description="the channel's sender id, as in POST /api/chat")],
        after: Annotated[str | None, Query(description="the last id already shown")] = None,
        wait: Annotated[str | None, Query(description="seconds to wait for a new message, 0..25")] = None,
    ) -> JSONResponse:
        from bot.app import Gateway, busy_error  # the app module imports this one

        gateway: Gateway = request.app.state.gateway
        conversation = conversation_id(_sender(sender, settings))
        after_id, wait_seconds = _after(after), _wait(wait)
        client = request.client.host if request.client else None
        try:
            await gateway.fair.admit_inbox(conversation, client)
        except Busy as exc:
            raise busy_error(exc) from None
        try:
            found = await inbox.read_inbox(gateway.redis, conversation, after_id)
            if not found and wait_seconds and not gateway.inbox_waiting.locked():
                async with gateway.inbox_waiting:
                    found = await _long_poll(gateway, request, conversation, after_id, wait_seconds)
        except RedisError as exc:
            log.warning("inbox read failed: %s", type(exc).__name__)
            raise ApiError(503, "inbox_unavailable", messages.RASA_UNAVAILABLE) from None
        last_id = found[-1].id if found else (after_id or "0-0")
        return JSONResponse({"messages": [_message(m) for m in found], "last_id": last_id})

    return router


async def _long_poll(
    gateway: Any, request: Request, conversation: str, after_id: str | None, wait_seconds: int
) -> list[inbox.InboxMessage]:
    deadline = time.monotonic() + wait_seconds
    cursor = after_id or "0-0"
    while (remaining := deadline - time.monotonic()) > 0.05:
        found = await inbox.read_inbox(
            gateway.blocking, conversation, cursor, block_ms=min(int(remaining * 1000), MAX_BLOCK_MS)
        )
        if found:
            return found
        if await request.is_disconnected():
            break
    return []
