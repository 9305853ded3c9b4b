"""The staff API (``/api/staff/…``) and the staff console page (``/staff``).

Security, for every route under ``/api/staff`` except the login itself:

- a **session** (cookie ``yjs_staff_session``, server-side in Redis: ``bot.staff.sessions``) or 401;
- **same origin**: an ``Origin`` (or, without one, a ``Referer``) header that names another host than
  the request's ``Host`` gets 403 (the login too);
- **CSRF**: a state-changing request (POST) must send ``X-CSRF-Token`` equal to the session's token
  (given by the login and ``GET /api/staff/me``), else 403;
- every authenticated request counts as a console heartbeat (``records.staff_queue.heartbeat``).

Errors from ``records`` map to JSON errors: ``NotFound`` 404, ``Conflict`` 409, ``Invalid`` 422.
The console page is served with a Content-Security-Policy that allows only this origin's scripts.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable
from datetime import date
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

import yaml
from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from redis.exceptions import RedisError

from bot import messages, pages
from bot.config import Settings
from bot.schemas import ApiError
from bot.staff import sessions, stats
from bot.staff.sessions import COOKIE_NAME, StaffSession
from bot.staff.views import booking_view, event_view, ticket_view
from records import appointments, staff_queue, staff_users
from records.errors import Conflict, Invalid, NotFound, RecordError
from records.events import latest_event_id, read_events
from records.service_hours import ServiceSettings, local
from records.ticket_model import CloseOutcome, TicketStatus
from records.tickets import QUEUE_KEY, get_ticket

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
DEFAULT_CANNED_FILE = HERE / "canned_replies.yml"

MAX_TEXT = 1_000  # characters in one staff message, note or closing note
MAX_LOGIN_FIELD = 256
SSE_BLOCK_MS = 3_000  # XREAD BLOCK per call: below the gateway's 5 s Redis socket time-out
SSE_PING_SECONDS = 15.0
LIST_LIMIT = 200
_EVENT_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
_TICKET_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

# --- helpers -----------------------------------------------------------------------------------------


def _gateway(request: Request) -> Any:
    return request.app.state.gateway


T = TypeVar("T")


async def answered(call: Awaitable[T]) -> T:
    """Await a records call; its refusal (not found, conflict, invalid) becomes the JSON error."""
    try:
        return await call
    except RecordError as exc:
        raise record_error(exc) from None


def record_error(exc: RecordError) -> ApiError:
    if isinstance(exc, NotFound):
        return ApiError(404, "not_found", exc.message)
    if isinstance(exc, Conflict):
        return ApiError(409, "conflict", exc.message)
    if isinstance(exc, Invalid):
        return ApiError(422, "invalid_value", exc.message)
    return ApiError(400, "refused", exc.message)


def _host_of(url: str) -> str:
    try:
        return (urlsplit(url).netloc or "").lower()
    except ValueError:
        return ""


def same_origin(request: Request) -> bool:
    """False when an ``Origin`` (or else a ``Referer``) header names another host than ``Host``."""
    host = (request.headers.get("host") or "").lower()
    origin = request.headers.get("origin")
    if origin is not None:
        return bool(host) and _host_of(origin) == host
    referer = request.headers.get("referer")
    if referer:
        return bool(host) and _host_of(referer) == host
    return True


def _check_origin(request: Request) -> None:
    if not same_origin(request):
        raise ApiError(403, "cross_site", messages.STAFF_CROSS_SITE)


async def _session(request: Request) -> StaffSession:
    gateway = _gateway(request)
    session = await sessions.get_session(gateway.redis, request.cookies.get(COOKIE_NAME))
    if session is None:
        raise ApiError(401, "not_logged_in", messages.STAFF_NOT_LOGGED_IN)
    if await staff_users.get_user(gateway.redis, session.username) is None:  # account deleted
        raise ApiError(401, "not_logged_in", messages.STAFF_NOT_LOGGED_IN)
    _check_origin(request)
    await staff_queue.heartbeat(gateway.redis, session.username)
    return session


async def staff_reader(request: Request) -> StaffSession:
    """A logged-in staff member (GET routes)."""
    return await _session(request)


async def staff_writer(request: Request) -> StaffSession:
    """A logged-in staff member whose request carries the session's CSRF token (POST routes)."""
    session = await _session(request)
    sent = request.headers.get("x-csrf-token") or ""
    if not hmac.compare_digest(sent.encode("utf-8", "replace"), session.csrf_token.encode("utf-8")):
        raise ApiError(403, "csrf", messages.STAFF_CSRF)
    return session


Reader = Annotated[StaffSession, Depends(staff_reader)]
Writer = Annotated[StaffSession, Depends(staff_writer)]


async def _body(request: Request, settings: Settings) -> dict[str, Any]:
    from bot.app import read_json_body  # bot.app imports this module

    data = await read_json_body(request, settings.max_body_bytes, messages.body_too_large(settings.max_body_bytes))
    if not isinstance(data, dict):
        raise ApiError(422, "invalid_body", messages.NOT_AN_OBJECT)
    return data


def _text_field(data: dict[str, Any], field: str, *, required: bool = True, limit: int = MAX_TEXT) -> str | None:
    value = data.get(field)
    if value is None:
        if required:
            raise ApiError(422, "missing_field", messages.missing_field(field), field)
        return None
    if not isinstance(value, str):
        raise ApiError(422, "wrong_type", messages.wrong_type(field, "文字"), field)
    value = value.strip()
    if not value:
        if required:
            raise ApiError(422, "empty_field", messages.empty_field(field), field)
        return None
    if len(value) > limit:
        raise ApiError(422, "too_long", messages.staff_text_too_long(limit), field)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError(422, "invalid_value", messages.invalid_characters(field), field) from None
    return value


def _ticket_id(ticket_id: str) -> str:
    if not _TICKET_ID.fullmatch(ticket_id):
        raise ApiError(404, "not_found", NotFound.message)
    return ticket_id


def _day(value: str | None, service: ServiceSettings) -> date:
    if not value:
        return local(time.time(), service).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ApiError(422, "invalid_value", messages.STAFF_BAD_DATE, "date") from None


def load_canned(path: Path) -> list[dict[str, str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    replies = []
    for item in data.get("replies") or []:
        if isinstance(item, dict) and str(item.get("title", "")).strip() and str(item.get("text", "")).strip():
            replies.append({"title": str(item["title"]).strip(), "text": str(item["text"]).strip()})
    return replies


def _session_json(session: StaffSession, service: ServiceSettings) -> dict[str, Any]:
    return {
        "username": session.username,
        "display_name": session.display_name,
        "csrf_token": session.csrf_token,
        "utc_offset_seconds": round(service.utc_offset.total_seconds()),  # the console shows county time
    }


# --- the router --------------------------------------------------------------------------------------


def create_router(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["staff"])
    service = ServiceSettings.from_env()
    lifetime = max(60, round(settings.staff_session_hours * 3600))
    canned_path = Path(settings.staff_canned_file) if settings.staff_canned_file else DEFAULT_CANNED_FILE
    static_files = pages.static_files(STATIC_DIR)

    # --- login ---------------------------------------------------------------------------------------

    @router.post("/api/staff/login")
    async def login(request: Request) -> JSONResponse:
        _check_origin(request)
        gateway = _gateway(request)
        data = await _body(request, settings)
        username = _text_field(data, "username", limit=MAX_LOGIN_FIELD) or ""
        password = data.get("password")
        if password is None:
            raise ApiError(422, "missing_field", messages.missing_field("password"), "password")
        if not isinstance(password, str):
            raise ApiError(422, "wrong_type", messages.wrong_type("password", "文字"), "password")
        client = request.client.host if request.client else "unknown"
        check = await staff_users.check_login_allowed(gateway.redis, username, client)
        if not check.allowed:
            raise ApiError(
                429, "too_many_logins", messages.staff_login_locked(check.retry_after_seconds),
                headers={"Retry-After": str(check.retry_after_seconds)},
            )
        if not await staff_users.verify(gateway.redis, username, password[:MAX_LOGIN_FIELD]):
            await staff_users.record_login_failure(gateway.redis, username, client)
            log.info("staff login failed for %r from %s", username[:40], client)
            raise ApiError(401, "bad_login", messages.STAFF_BAD_LOGIN)
        await staff_users.clear_login_failures(gateway.redis, username, client)
        user = await staff_users.get_user(gateway.redis, username)
        if user is None:  # pragma: no cover - deleted in the same instant
            raise ApiError(401, "bad_login", messages.STAFF_BAD_LOGIN)
        session_id, session = await sessions.create_session(gateway.redis, user.username, user.display_name, lifetime)
        await staff_queue.heartbeat(gateway.redis, user.username)
        log.info("staff %s logged in from %s", user.username, client)
        response = JSONResponse(_session_json(session, service))
        response.set_cookie(
            COOKIE_NAME, session_id, max_age=lifetime, path="/", secure=settings.staff_cookie_secure,
            httponly=True, samesite="strict",
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    @router.post("/api/staff/logout")
    async def logout(request: Request, session: Writer) -> JSONResponse:
        await sessions.delete_session(_gateway(request).redis, request.cookies.get(COOKIE_NAME))
        response = JSONResponse({"ok": True})
        response.delete_cookie(COOKIE_NAME, path="/", secure=settings.staff_cookie_secure, httponly=True, samesite="strict")
        return response

    @router.get("/api/staff/me")
    async def me(session: Reader) -> JSONResponse:
        return JSONResponse(_session_json(session, service), headers={"Cache-Control": "no-store"})

    @router.post("/api/staff/heartbeat")
    async def heartbeat(request: Request, session: Writer) -> dict[str, Any]:
        requeued = await staff_queue.requeue_abandoned(_gateway(request).redis, timeout_seconds=settings.staff_abandon_seconds)
        return {"ok": True, "requeued": requeued}

    # --- tickets -------------------------------------------------------------------------------------

    @router.get("/api/staff/tickets")
    async def tickets(request: Request, session: Reader, status: str = "waiting") -> dict[str, Any]:
        if status not in ("waiting", "claimed", "closed"):
            raise ApiError(422, "invalid_value", messages.STAFF_BAD_TICKET_STATUS, "status")
        redis = _gateway(request).redis
        if status != "closed":
            await staff_queue.requeue_abandoned(redis, timeout_seconds=settings.staff_abandon_seconds)
        now = time.time()
        since = None
        if status == "closed":
            since = stats.day_bounds(local(now, service).date(), service)[0]
        found = await staff_queue.list_tickets(redis, status, since=since, limit=LIST_LIMIT)
        views = [
            ticket_view(t, now, place=i + 1 if status == "waiting" else None) for i, t in enumerate(found)
        ]
        return {"tickets": views}

    @router.get("/api/staff/tickets/{ticket_id}")
    async def one_ticket(request: Request, ticket_id: str, session: Reader) -> dict[str, Any]:
        redis = _gateway(request).redis
        ticket = await get_ticket(redis, _ticket_id(ticket_id))
        if ticket is None:
            raise ApiError(404, "not_found", NotFound.message)
        place = None
        if ticket.status == TicketStatus.waiting:
            rank = await redis.zrank(QUEUE_KEY, ticket.id)
            place = None if rank is None else int(rank) + 1
        return {"ticket": ticket_view(ticket, place=place)}

    @router.post("/api/staff/tickets/{ticket_id}/claim")
    async def claim(request: Request, ticket_id: str, session: Writer) -> dict[str, Any]:
        ticket = await answered(staff_queue.claim(_gateway(request).redis, _ticket_id(ticket_id), session.username))
        return {"ticket": ticket_view(ticket)}

    @router.post("/api/staff/tickets/{ticket_id}/messages")
    async def message(request: Request, ticket_id: str, session: Writer) -> dict[str, Any]:
        text = _text_field(await _body(request, settings), "text") or ""
        sent = await answered(
            staff_queue.add_staff_message(_gateway(request).redis, _ticket_id(ticket_id), session.username, text)
        )
        return {"ticket": ticket_view(sent.ticket), "inbox_id": sent.inbox_id}

    @router.post("/api/staff/tickets/{ticket_id}/notes")
    async def note(request: Request, ticket_id: str, session: Writer) -> dict[str, Any]:
        text = _text_field(await _body(request, settings), "text") or ""
        ticket = await answered(staff_queue.add_note(_gateway(request).redis, _ticket_id(ticket_id), session.username, text))
        return {"ticket": ticket_view(ticket)}

    @router.post("/api/staff/tickets/{ticket_id}/close")
    async def close(request: Request, ticket_id: str, session: Writer) -> dict[str, Any]:
        data = await _body(request, settings)
        outcome = data.get("outcome")
        if outcome is None:
            raise ApiError(422, "missing_field", messages.STAFF_BAD_OUTCOME, "outcome")
        if outcome not in [o.value for o in CloseOutcome]:
            raise ApiError(422, "invalid_value", messages.STAFF_BAD_OUTCOME, "outcome")
        closing_note = _text_field(data, "note", required=False)
        return_to_bot = data.get("return_to_bot", True)
        if not isinstance(return_to_bot, bool):
            raise ApiError(422, "wrong_type", messages.STAFF_NOT_A_BOOL, "return_to_bot")
        ticket = await answered(
            staff_queue.close(
                _gateway(request).redis, _ticket_id(ticket_id), session.username, outcome, closing_note, return_to_bot
            )
        )
        return {"ticket": ticket_view(ticket)}

    # --- appointments, figures, canned replies -------------------------------------------------------

    @router.get("/api/staff/appointments")
    async def day_appointments(
        request: Request, session: Reader, date: str | None = None
    ) -> dict[str, Any]:
        day = _day(date, service)
        found = await appointments.list_day(_gateway(request).redis, day, settings=service)
        return {"date": day.isoformat(), "appointments": [booking_view(b) for b in found]}

    @router.post("/api/staff/appointments/{code}/mark")
    async def mark(request: Request, code: str, session: Writer) -> dict[str, Any]:
        status = (await _body(request, settings)).get("status")
        if status not in ("attended", "no_show"):
            raise ApiError(422, "invalid_value", messages.STAFF_BAD_MARK, "status")
        if len(code) > 32:
            raise ApiError(404, "not_found", NotFound.message)
        booking = await answered(appointments.mark(_gateway(request).redis, code, status, staff=session.username))
        return {"appointment": booking_view(booking)}

    @router.get("/api/staff/stats")
    async def day_stats(request: Request, session: Reader, date: str | None = None) -> dict[str, Any]:
        return await stats.day_stats(_gateway(request).redis, _day(date, service), service)

    @router.get("/api/staff/canned")
    async def canned(session: Reader) -> dict[str, Any]:
        try:
            return {"replies": load_canned(canned_path)}
        except (OSError, yaml.YAMLError, AttributeError) as exc:
            log.warning("canned replies unreadable (%s): %s", canned_path, exc)
            return {"replies": []}

    # --- live events ---------------------------------------------------------------------------------

    @router.get("/api/staff/events")
    async def events(request: Request, session: Reader) -> StreamingResponse:
        redis = _gateway(request).redis
        cookie = request.cookies.get(COOKIE_NAME)
        asked = request.headers.get("last-event-id") or request.query_params.get("after") or ""
        start = asked if _EVENT_ID.fullmatch(asked) else await latest_event_id(redis)

        async def stream() -> AsyncIterator[str]:
            last = start
            yield "retry: 3000\n: connected\n\n"
            last_ping = time.monotonic()
            # No request.is_disconnected() here: it races Starlette's own disconnect listener, which
            # cancels this generator when the client goes (a server on ASGI spec 2.4: the next write fails).
            while True:
                try:
                    found = await read_events(redis, last, block_ms=SSE_BLOCK_MS)
                except RedisError as exc:
                    log.warning("staff events: redis error %r", exc)
                    await asyncio.sleep(1.0)
                    continue
                for event in found:
                    last = event.id
                    data = json.dumps(event_view(event), ensure_ascii=False)
                    yield f"id: {event.id}\nevent: queue\ndata: {data}\n\n"
                if time.monotonic() - last_ping >= SSE_PING_SECONDS:
                    last_ping = time.monotonic()
                    try:
                        if await sessions.get_session(redis, cookie) is None:
                            return  # logged out or expired: the console's reconnect gets 401
                        await staff_queue.heartbeat(redis, session.username)
                    except RedisError:
                        pass
                    yield ": ping\n\n"

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache, no-store", "X-Accel-Buffering": "no"},
        )

    # --- the console page ----------------------------------------------------------------------------

    @router.get("/staff", include_in_schema=False)
    @router.get("/staff/", include_in_schema=False)
    async def console() -> FileResponse:
        return pages.page(STATIC_DIR / "index.html")

    @router.get("/staff/static/{name:path}", include_in_schema=False)
    async def static(name: str) -> Response:
        return pages.static(static_files, name)

    return router

