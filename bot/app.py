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
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot import health, messages, things
from bot.config import Settings
from bot.handoff import router as handoff
from bot.health import HealthChecker
from bot.rasa_client import RasaClient, RasaUnavailable, resolve_core_fallback
from bot.schemas import ApiError, BotMessage, ChatRequest, ErrorResponse
from bot.things import KnowledgeProvider, Loader

log = logging.getLogger(__name__)

_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Gateway:
    """The shared clients, created once per app in the lifespan (``app.state.gateway``)."""

    settings: Settings
    http: httpx.AsyncClient
    redis: Redis
    rasa: RasaClient
    health: HealthChecker
    knowledge: KnowledgeProvider


# --- the channel-independent core -------------------------------------------------------------------


def apology(sender: str, text: str, error: str) -> list[dict[str, Any]]:
    return [{"recipient_id": sender, "text": text, "custom": {"error": error}}]


async def reply_to(gateway: Gateway, sender: str, message: str) -> list[dict[str, Any]]:
    """Rasa's reply to one user message, or a one-message apology when the stack cannot answer.

    - Rasa refused / timed out / 5xx / bad reply -> apology, ``custom.error = "rasa_unavailable"``.
    - Rasa replied with nothing: Rasa's REST channel swallows any error while handling a message
      (action server down, tracker/lock store down) and answers ``[]``. So the action server and
      Redis are checked (concurrently): action server down -> apology with
      ``custom.error = "action_server_unavailable"``; else Redis down -> apology with
      ``"redis_unavailable"``; both healthy -> ``[]`` passes through as is.
    - Rasa fell back (``utter_core_fallback``, see ``rasa_client.resolve_core_fallback``): the same
      check, since a custom action that failed leaves Rasa without a next step. Action server down
      -> the apology instead of "please rephrase"; else the fallback's text.

    While the sender waits for staff (human handoff) ``bot.handoff.router`` answers first.
    """
    routed = await handoff.route(
        gateway.redis, gateway.rasa, sender, message, gateway.settings.handoff_wait_seconds
    )
    if routed is not None and not routed.forward:
        return routed.replies
    before = routed.replies if routed is not None else []
    return before + await _rasa_reply(gateway, sender, message)


async def _rasa_reply(gateway: Gateway, sender: str, message: str) -> list[dict[str, Any]]:
    try:
        replies = await gateway.rasa.send(sender, message)
    except RasaUnavailable as exc:
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
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise ApiError(413, "body_too_large", too_large_message)
    if not body.strip():
        raise ApiError(400, "invalid_json", messages.EMPTY_BODY)
    try:
        return json.loads(bytes(body))
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ApiError(400, "invalid_json", messages.INVALID_JSON) from None


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
    if len(sender) > settings.sender_max_chars:
        raise ApiError(422, "too_long", messages.sender_too_long(settings.sender_max_chars), "sender")
    if _CONTROL_CHARS.search(sender):
        raise ApiError(422, "invalid_value", messages.invalid_characters("sender"), "sender")
    message = _required_str(data, "message").strip()
    if len(message) > settings.chat_max_chars:
        raise ApiError(413, "message_too_long", messages.message_too_long(settings.chat_max_chars), "message")
    return ChatRequest(sender=sender, message=message)


# --- error handlers ---------------------------------------------------------------------------------


def _error(status: int, code: str, message: str, field: str | None = None, **kw: Any) -> JSONResponse:
    return JSONResponse(ApiError(status, code, message, field).body(), status_code=status, **kw)


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse(exc.body(), status_code=exc.status_code)


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
        # trust_env=False: calls to local services must not go through an HTTP(S)_PROXY.
        http = httpx.AsyncClient(
            transport=transport,
            trust_env=False,
            timeout=httpx.Timeout(settings.chat_timeout_seconds, connect=5.0),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        )
        redis = Redis.from_url(
            settings.redis_url,
            socket_connect_timeout=5.0,
            socket_timeout=5.0,
            retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), 1),
        )
        gateway = Gateway(
            settings=settings,
            http=http,
            redis=redis,
            rasa=RasaClient(http, settings),
            health=HealthChecker(http, redis, settings),
            knowledge=KnowledgeProvider(knowledge_loader),
        )
        app.state.gateway = gateway
        app.state.health = gateway.health  # read by bot.health's router
        app.state.knowledge = gateway.knowledge  # read by bot.things' router
        if settings.knowledge_preload:
            gateway.knowledge.start()
        try:
            yield
        finally:
            await gateway.knowledge.aclose()
            await http.aclose()
            await redis.aclose()

    app = FastAPI(
        title="一件事导办助手 gateway",
        summary="REST channel to Rasa, health and the things API",
        lifespan=lifespan,
    )
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)

    app.include_router(health.router)
    app.include_router(things.create_router(settings))

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
        return JSONResponse(await reply_to(gateway, chat_request.sender, chat_request.message))

    return app
