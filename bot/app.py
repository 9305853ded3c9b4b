"""The gateway: a FastAPI app between user channels and Rasa.

Channels (today the REST channel ``POST /api/chat``; later Telegram, the kiosk page, the staff
console) all turn a user message into :func:`reply_to`, which talks to Rasa and, when Rasa or the
action server is down, answers with a short apology instead. Every error response is JSON:
``{"error": {"code", "message", "field"}}`` with a plain Chinese message.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from bot import checklist_links, health, inbox, inbox_events, kiosk, messages, staff, things
from bot.buttons import ButtonMemory
from bot.config import Settings
from bot.conversation import InvalidSender, channel_of, check_sender, conversation_id
from bot.fairuse import Busy, FairUse
from bot.handoff import router as handoff
from bot.handoff.handback import HandBack
from bot.handoff.live import Live
from bot.health import HealthChecker
from bot.rasa_client import RasaClient, RasaUnavailable, resolve_core_fallback
from bot.schemas import ApiError, BotMessage, ChatRequest, ErrorResponse
from bot.things import KnowledgeProvider, Loader
from records import client as records_client

log = logging.getLogger(__name__)

REDIS_CONNECTIONS = 100  # the gateway's connections to Redis (shared by every request)


@dataclass(frozen=True)
class Gateway:
    """The shared clients, created once per app in the lifespan (``app.state.gateway``)."""

    settings: Settings
    http: httpx.AsyncClient
    redis: Redis
    rasa: RasaClient
    health: HealthChecker
    knowledge: KnowledgeProvider
    buttons: ButtonMemory
    fair: FairUse
    hand_back: HandBack  # after staff close a ticket (bot.handoff.handback)
    blocking: Redis  # blocking reads (inbox long-polls, the events follower): a pool of their own
    inbox_waiting: asyncio.Semaphore  # INBOX_MAX_WAITING long-polls at once


# --- the channel-independent core -------------------------------------------------------------------


def apology(sender: str, text: str, error: str) -> list[dict[str, Any]]:
    return [{"recipient_id": sender, "text": text, "custom": {"error": error}}]


async def reply_to(
    gateway: Gateway, sender: str, message: str, *, client: str | None = None, channel: str | None = None
) -> list[dict[str, Any]]:
    """Rasa's reply to one user message, or a one-message apology when the stack cannot answer.

    ``sender`` is the channel's sender id, already validated (``bot.conversation.check_sender``);
    Rasa, Redis and the action server see its conversation id (``bot.conversation``), the replies
    carry ``sender`` as ``recipient_id``. ``client`` is the client's address, when the channel has one.
    ``channel`` names the channel for Rasa's ``input_channel`` (tickets, cases, ratings and bookings
    record it); by default it follows from the sender id (``bot.conversation.channel_of``).

    Fair use first (``bot.fairuse``; raises :class:`bot.fairuse.Busy`): the rate limits, then one
    message in flight per conversation. A message starting with ``/`` goes to Rasa as an intent only
    when it is a button payload offered to this conversation (``bot.buttons``); the payloads in the
    reply are remembered.

    - Rasa refused / timed out / 5xx / bad reply -> apology, ``custom.error = "rasa_unavailable"``.
    - Rasa replied with nothing: Rasa's REST channel swallows any error while handling a message
      (action server down, tracker/lock store down) and answers ``[]``. So the action server and
      Redis are checked (concurrently): action server down -> apology with
      ``custom.error = "action_server_unavailable"``; else Redis down -> apology with
      ``"redis_unavailable"``; both healthy -> ``[]`` passes through as is.
    - Rasa fell back (``utter_core_fallback``, see ``rasa_client.resolve_core_fallback``): the same
      check, since a custom action that failed leaves Rasa without a next step. Action server down
      -> the apology instead of "please rephrase"; else the fallback's text.

    - Rasa timed out and the action server's health check fails (a hung action server) -> apology
      with ``custom.error = "action_server_unavailable"``.

    While the sender waits for staff (human handoff) ``bot.handoff.router`` answers first.
    """
    conversation = conversation_id(sender)
    await gateway.fair.admit(conversation, client)
    async with gateway.fair.turn(conversation):
        replies = await _converse(gateway, conversation, message, channel or channel_of(sender))
        await gateway.buttons.remember(conversation, replies)
        replies = await checklist_links.decorate(gateway.redis, replies, gateway.settings)
    return [{**reply, "recipient_id": sender} for reply in replies]


RESTART_INTENT = "/restart"  # Rasa's default intent: action_restart wipes the tracker


async def restart(gateway: Gateway, sender: str, *, client: str | None = None) -> list[dict[str, Any]]:
    """Start the sender's conversation afresh (Rasa's ``/restart``), for a channel's own restart
    command (Telegram ``/restart``). Same fair use and turn as :func:`reply_to`; the intent goes
    to Rasa directly, so a *typed* ``/restart`` elsewhere is still screened as text
    (``bot.buttons``). An open handoff ticket is left as it is. Rasa's reply (often ``[]``) or the
    usual apology."""
    conversation = conversation_id(sender)
    await gateway.fair.admit(conversation, client)
    async with gateway.fair.turn(conversation):
        replies = await _rasa_reply(gateway, conversation, RESTART_INTENT)
    return [{**reply, "recipient_id": sender} for reply in replies]


async def _converse(gateway: Gateway, conversation: str, message: str, channel: str) -> list[dict[str, Any]]:
    routed = await handoff.route(
        gateway.redis,
        gateway.rasa,
        conversation,
        message,
        gateway.settings.handoff_wait_seconds,
        hand_back=gateway.hand_back,
    )
    if routed is not None and not routed.forward:
        return routed.replies
    before = routed.replies if routed is not None else []
    text = await gateway.buttons.screen(conversation, message)
    return before + await _rasa_reply(gateway, conversation, text, channel)


async def _rasa_reply(gateway: Gateway, sender: str, message: str, channel: str = "rest") -> list[dict[str, Any]]:
    try:
        async with gateway.fair.rasa_slot(gateway.settings.chat_timeout_seconds):
            replies = await gateway.rasa.send(sender, message, channel)
    except TimeoutError:
        log.warning("rasa busy: no free place in flight for %gs", gateway.settings.chat_timeout_seconds)
        return apology(sender, messages.RASA_UNAVAILABLE, "rasa_busy")
    except RasaUnavailable as exc:
        if exc.timed_out:
            action_server = await gateway.health.action_server()
            if not action_server.ok:
                log.warning("rasa %s and action server down: %s", exc.reason, action_server.detail)
                return apology(sender, messages.ACTION_SERVER_UNAVAILABLE, "action_server_unavailable")
        log.warning("rasa unavailable: %s", exc.reason)
        return apology(sender, messages.RASA_UNAVAILABLE, "rasa_unavailable")
    replies, fell_back = resolve_core_fallback(replies)
    if replies and not fell_back:
        return replies
    action_server, redis = await asyncio.gather(gateway.health.action_server(), gateway.health.redis())
    what = "a fallback" if fell_back else "an empty reply"
    if not action_server.ok:
        log.warning("%s and action server down: %s", what, action_server.detail)
        return apology(sender, messages.ACTION_SERVER_UNAVAILABLE, "action_server_unavailable")
    if not redis.ok and not replies:
        log.warning("%s and redis down: %s", what, redis.detail)
        return apology(sender, messages.RASA_UNAVAILABLE, "redis_unavailable")
    return replies


# --- request parsing --------------------------------------------------------------------------------


async def read_json_body(request: Request, max_bytes: int, too_large_message: str) -> Any:
    """Read and parse a JSON body, refusing anything over ``max_bytes`` before parsing it.

    415 for a non-JSON content type, 413 for a large body (by Content-Length or while streaming),
    400 for an empty body or invalid JSON (including invalid UTF-8 and absurd nesting).
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > max_bytes:
        raise ApiError(413, "body_too_large", too_large_message)
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise ApiError(415, "unsupported_media_type", messages.UNSUPPORTED_MEDIA_TYPE)
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_bytes:
                raise ApiError(413, "body_too_large", too_large_message)
    except ClientDisconnect:
        raise _client_gone(request) from None
    if not body.strip():
        raise ApiError(400, "invalid_json", messages.EMPTY_BODY)
    try:
        return json.loads(bytes(body))
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ApiError(400, "invalid_json", messages.INVALID_JSON) from None


def _client_gone(request: Request) -> ApiError:
    """A client that went away mid-upload (or was cut off by the server's body timeout): one line."""
    log.info("client disconnected before sending the whole body: %s %s", request.method, request.url.path)
    return ApiError(400, "client_disconnected", messages.CLIENT_GONE)


def _required_str(data: dict[str, Any], field: str) -> str:
    if field not in data:
        raise ApiError(422, "missing_field", messages.missing_field(field), field)
    value = data[field]
    if not isinstance(value, str):
        raise ApiError(422, "wrong_type", messages.wrong_type(field, "文字"), field)
    if not value.strip():
        raise ApiError(422, "empty_field", messages.empty_field(field), field)
    try:
        value.encode("utf-8")  # JSON "\ud800" escapes decode to lone surrogates, which cannot be sent on
    except UnicodeEncodeError:
        raise ApiError(422, "invalid_value", messages.invalid_characters(field), field) from None
    return value


def parse_chat_request(data: Any, settings: Settings) -> ChatRequest:
    if not isinstance(data, dict):
        raise ApiError(422, "invalid_body", messages.NOT_AN_OBJECT)
    sender = _required_str(data, "sender")
    try:
        check_sender(sender, settings.sender_max_chars)
    except InvalidSender as exc:
        if exc.reason == "too_long":
            raise ApiError(422, "too_long", messages.sender_too_long(settings.sender_max_chars), "sender") from None
        raise ApiError(422, "invalid_value", messages.invalid_characters("sender"), "sender") from None
    message = _required_str(data, "message").strip()
    if len(message) > settings.chat_max_chars:
        raise ApiError(413, "message_too_long", messages.message_too_long(settings.chat_max_chars), "message")
    return ChatRequest(sender=sender, message=message)


# --- error handlers ---------------------------------------------------------------------------------


def _error(status: int, code: str, message: str, field: str | None = None, **kw: Any) -> JSONResponse:
    return JSONResponse(ApiError(status, code, message, field).body(), status_code=status, **kw)


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse(exc.body(), status_code=exc.status_code, headers=exc.headers or None)


async def _client_disconnect(request: Request, _: Exception) -> JSONResponse:
    error = _client_gone(request)  # nobody reads this answer; the point is one log line, no traceback
    return JSONResponse(error.body(), status_code=error.status_code)


def busy_error(exc: Busy) -> ApiError:
    """429 for a message refused for fair use, with ``Retry-After``."""
    if exc.reason == "conversation_busy":
        code, text = "conversation_busy", messages.CONVERSATION_BUSY
    else:
        code, text = "too_many_messages", messages.TOO_MANY_MESSAGES
    return ApiError(429, code, text, headers={"Retry-After": str(exc.retry_after)})


def _validation_error_detail(err: dict[str, Any]) -> tuple[str, str, str | None]:
    """Map pydantic's first error (query/path parameters) to (code, Chinese message, field)."""
    loc = err.get("loc") or ()
    field = str(loc[-1]) if len(loc) > 1 else None
    kind = str(err.get("type", ""))
    ctx = err.get("ctx") or {}
    if kind == "missing" and field:
        return "missing_field", messages.missing_field(field), field
    if kind == "string_too_short" and field:
        return "empty_field", messages.empty_field(field), field
    if kind == "string_too_long":
        limit = int(ctx.get("max_length", 0))
        text = (
            messages.query_too_long(limit)
            if field == "q"
            else messages.wrong_type(field, f"不超过{limit}个字")
        )
        return "too_long", text, field
    if kind in ("greater_than_equal", "less_than_equal") and field == "k":
        return "out_of_range", messages.out_of_range(field, 1, things.MAX_K), field
    if kind.endswith("_parsing") or kind.endswith("_type"):
        expected = "整数" if kind.startswith("int") else "文字"
        return "wrong_type", messages.wrong_type(field, expected), field
    return "invalid_value", messages.INVALID_REQUEST, field


async def _request_validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    code, text, field = _validation_error_detail(errors[0] if errors else {})
    return _error(422, code, text, field)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    known = {
        404: ("not_found", messages.NOT_FOUND),
        405: ("method_not_allowed", messages.METHOD_NOT_ALLOWED),
    }
    code, text = known.get(exc.status_code, (f"http_{exc.status_code}", messages.INVALID_REQUEST))
    return _error(exc.status_code, code, text, headers=dict(exc.headers or {}))


async def _unexpected_error(_: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error: %r", exc)
    return _error(500, "internal_error", messages.INTERNAL_ERROR)


# --- the shared clients -----------------------------------------------------------------------------


@asynccontextmanager
async def open_gateway(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    knowledge_loader: Loader = things.default_loader,
) -> AsyncIterator[Gateway]:
    """The gateway core's shared clients, with the knowledge preload and the live handoff work
    started as the settings say; everything is closed on exit. Used by the FastAPI app's lifespan
    and by channels that run in a process of their own (``python -m bot.telegram``)."""
    # trust_env=False: calls to local services must not go through an HTTP(S)_PROXY.
    http = httpx.AsyncClient(
        transport=transport,
        trust_env=False,
        timeout=httpx.Timeout(settings.chat_timeout_seconds, connect=5.0),
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
    )
    # A blocking pool: under a burst, requests wait (up to 5 s) for one of the connections instead
    # of failing with MaxConnectionsError (which would skip the rate limits and the turn lock).
    pool = BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=REDIS_CONNECTIONS,
        timeout=5.0,
        socket_connect_timeout=5.0,
        socket_timeout=5.0,
        retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), 1),
    )
    redis = Redis.from_pool(pool)  # the client owns the pool: aclose() closes it
    blocking = records_client.async_client(settings.redis_url, max_connections=settings.inbox_max_waiting + 4)
    rasa = RasaClient(http, settings)
    buttons = ButtonMemory(redis, settings.button_payloads_ttl_seconds, settings.button_payloads_max)
    hand_back = HandBack(redis, rasa, buttons, settings.redis_url)
    gateway = Gateway(
        settings=settings,
        http=http,
        redis=redis,
        rasa=rasa,
        health=HealthChecker(http, redis, settings),
        knowledge=KnowledgeProvider(knowledge_loader),
        buttons=buttons,
        fair=FairUse(redis, settings),
        hand_back=hand_back,
        blocking=blocking,
        inbox_waiting=asyncio.Semaphore(settings.inbox_max_waiting),
    )
    live = Live(redis, blocking, hand_back, settings)
    if settings.knowledge_preload:
        gateway.knowledge.start()
    if settings.handoff_live:
        live.start()
    try:
        yield gateway
    finally:
        await live.stop()
        await blocking.aclose()
        await gateway.knowledge.aclose()
        hand_back.close()
        await http.aclose()
        await redis.aclose()


# --- the app ----------------------------------------------------------------------------------------


def create_app(
    settings: Settings | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    knowledge_loader: Loader = things.default_loader,
) -> FastAPI:
    """Build the gateway. ``transport`` and ``knowledge_loader`` exist for tests only."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_gateway(settings, transport=transport, knowledge_loader=knowledge_loader) as gateway:
            app.state.gateway = gateway
            app.state.health = gateway.health  # read by bot.health's router
            app.state.knowledge = gateway.knowledge  # read by bot.things' router
            yield

    app = FastAPI(
        title="一件事导办助手 gateway",
        summary="REST channel to Rasa, health and the things API",
        lifespan=lifespan,
        # No /docs or /redoc (they load scripts from a CDN); the JSON schema only when asked for.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.openapi else None,
        # Starlette's slash redirect builds its Location from the request's Host header.
        redirect_slashes=False,
    )
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(ClientDisconnect, _client_disconnect)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)

    app.include_router(health.router)
    app.include_router(things.create_router(settings))
    app.include_router(inbox.create_router(settings))
    app.include_router(staff.create_router(settings))  # /api/staff/… and the console at /staff
    app.include_router(inbox_events.create_router(settings))  # GET /api/chat/{sender}/events (SSE)
    app.include_router(checklist_links.create_router(settings))  # /c/{token}: checklist links, QR codes
    app.include_router(kiosk.create_router(settings))  # /kiosk and /api/kiosk/…

    too_large = messages.message_too_long(settings.chat_max_chars)

    @app.post(
        "/api/chat",
        tags=["chat"],
        response_model=list[BotMessage],
        response_model_exclude_none=True,
        responses={
            400: {"model": ErrorResponse, "description": "invalid JSON"},
            413: {"model": ErrorResponse, "description": "message or body too long"},
            415: {"model": ErrorResponse, "description": "not application/json"},
            422: {"model": ErrorResponse, "description": "missing, wrong-typed or empty field"},
            429: {"model": ErrorResponse, "description": "too many messages, or the previous one is in flight"},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": ChatRequest.model_json_schema()}},
            }
        },
    )
    async def chat(request: Request) -> JSONResponse:
        """Rasa REST channel, guarded: validates the input, answers an apology when Rasa is down."""
        data = await read_json_body(request, settings.max_body_bytes, too_large)
        chat_request = parse_chat_request(data, settings)
        gateway: Gateway = request.app.state.gateway
        client = request.client.host if request.client else None
        try:
            replies = await reply_to(gateway, chat_request.sender, chat_request.message, client=client)
        except Busy as exc:
            raise busy_error(exc) from None
        return JSONResponse(replies)

    return app
