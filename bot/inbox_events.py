"""The inbox as server-sent events: ``GET /api/chat/{sender}/events``.

The same messages as ``GET /api/chat/{sender}/inbox`` (``bot.inbox``, the ``records.inbox`` stream of
the conversation: staff messages, "您前面还有 N 位…", the assistant's rating prompt after a hand-back),
pushed as they arrive, so a screen shows them live (the kiosk page). Each message is one event:

    id: <stream id>
    event: inbox
    data: {"id", "from", "text", "ts", "buttons"?}     (the inbox's JSON shape)

A reconnect with ``Last-Event-ID`` (or ``?after=<id>``) resumes after that message; without one the
stream starts with every kept message. A ``: ping`` comment goes out every 15 s. The sender is
validated as in ``POST /api/chat``; opening a stream counts as one inbox read
(``INBOX_RATE_PER_CONVERSATION``). Each open stream holds one of the ``INBOX_MAX_WAITING`` places for
blocking reads of this process; with none free the answer is 503 ``inbox_busy``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import StreamingResponse
from redis.exceptions import RedisError

from bot import messages
from bot.config import Settings
from bot.conversation import conversation_id
from bot.fairuse import Busy
from bot.inbox import _after, _message, _sender
from bot.schemas import ApiError, ErrorResponse
from records import inbox

log = logging.getLogger(__name__)

BLOCK_MS = 3_000  # per XREAD BLOCK: below the Redis socket time-out
PING_SECONDS = 15.0


def sse_event(message: inbox.InboxMessage) -> str:
    data = json.dumps(_message(message), ensure_ascii=False)
    return f"id: {message.id}\nevent: inbox\ndata: {data}\n\n"


def create_router(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["chat"])

    @router.get(
        "/api/chat/{sender:path}/events",
        responses={
            422: {"model": ErrorResponse, "description": "bad sender or after"},
            429: {"model": ErrorResponse, "description": "too many reads"},
            503: {"model": ErrorResponse, "description": "too many open streams"},
        },
    )
    async def events(
        request: Request,
        sender: Annotated[str, Path(description="the channel's sender id, as in POST /api/chat")],
        after: Annotated[str | None, Query(description="the last id already shown")] = None,
    ) -> StreamingResponse:
        from bot.app import Gateway, busy_error  # the app module imports this one

        gateway: Gateway = request.app.state.gateway
        conversation = conversation_id(_sender(sender, settings))
        start = _after(request.headers.get("last-event-id") or after) or "0-0"
        client = request.client.host if request.client else None
        try:
            await gateway.fair.admit_inbox(conversation, client)
        except Busy as exc:
            raise busy_error(exc) from None
        if gateway.inbox_waiting.locked():
            raise ApiError(503, "inbox_busy", messages.KIOSK_EVENTS_BUSY)

        async def stream() -> AsyncIterator[str]:
            # Starlette cancels this generator when the client goes; the place is given back then.
            async with gateway.inbox_waiting:
                cursor = start
                yield "retry: 3000\n: connected\n\n"
                last_ping = time.monotonic()
                while True:
                    try:
                        found = await inbox.read_inbox(gateway.blocking, conversation, cursor, block_ms=BLOCK_MS)
                    except RedisError as exc:
                        log.warning("inbox events: redis error %s", type(exc).__name__)
                        found = []
                        yield ": redis unavailable\n\n"
                        await asyncio.sleep(1.0)
                    for message in found:
                        cursor = message.id
                        yield sse_event(message)
                    if time.monotonic() - last_ping >= PING_SECONDS:
                        last_ping = time.monotonic()
                        yield ": ping\n\n"

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache, no-store", "X-Accel-Buffering": "no"},
        )

    return router

