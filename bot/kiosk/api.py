"""The kiosk page (``/kiosk``) and its small API (``/api/kiosk/…``); the conversation itself goes
through ``POST /api/chat`` and ``GET /api/chat/{sender}/events`` like any other channel.

- ``GET /kiosk``                       the page (``static/``: plain HTML, CSS, JS; no CDN, no build)
- ``GET /api/kiosk/config``            ``{"idle_seconds", "countdown_seconds", "chat_max_chars"}``;
                                       ``?idle=&countdown=`` override the settings for one page load,
                                       within ``IDLE_RANGE`` / ``COUNTDOWN_RANGE`` (else 422)
- ``GET /api/kiosk/situations``        ``{"situations": [{"label", "code", "title", "message"}]}``
- ``POST /api/kiosk/session``          ``{"sender": "kiosk-<random>"}`` (``bot.kiosk.session``)
- ``POST /api/kiosk/session/end``      ``{"sender"}`` -> ``{"ended", "handoff"}``
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from redis.exceptions import RedisError

from bot import messages, pages
from bot.config import Settings
from bot.kiosk import session, situations
from bot.schemas import ApiError

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
IDLE_RANGE = (5, 3600)
COUNTDOWN_RANGE = (3, 300)
def _bounded(request: Request, name: str, default: int, bounds: tuple[int, int]) -> int:
    raw = request.query_params.get(name)
    if raw is None or not raw.strip():
        return default
    low, high = bounds
    try:
        value = int(raw.strip())
    except ValueError:
        raise ApiError(422, "wrong_type", messages.wrong_type(name, "整数"), name) from None
    if not low <= value <= high:
        raise ApiError(422, "out_of_range", messages.out_of_range(name, low, high), name)
    return value


def create_router(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["kiosk"])
    static_files = pages.static_files(STATIC_DIR)
    path = Path(settings.kiosk_situations_file) if settings.kiosk_situations_file else situations.DEFAULT_FILE
    choices = situations.load_situations(path, situations.catalogue_titles())
    log.info("kiosk: %d start-screen situations", len(choices))

    @router.get("/kiosk", include_in_schema=False)
    @router.get("/kiosk/", include_in_schema=False)
    async def page() -> FileResponse:
        return pages.page(STATIC_DIR / "index.html")

    @router.get("/kiosk/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        return pages.static(static_files, name)

    @router.get("/api/kiosk/config")
    async def config(request: Request) -> dict[str, Any]:
        return {
            "idle_seconds": _bounded(request, "idle", settings.kiosk_idle_seconds, IDLE_RANGE),
            "countdown_seconds": _bounded(request, "countdown", settings.kiosk_countdown_seconds, COUNTDOWN_RANGE),
            "chat_max_chars": settings.chat_max_chars,
        }

    @router.get("/api/kiosk/situations")
    async def situation_list() -> dict[str, Any]:
        return {"situations": choices}

    @router.post("/api/kiosk/session")
    async def new_session(request: Request) -> JSONResponse:
        try:
            sender = await session.new_session(request.app.state.gateway.redis)
        except RedisError as exc:
            log.warning("kiosk session not created: %s", type(exc).__name__)
            raise ApiError(503, "kiosk_unavailable", messages.RASA_UNAVAILABLE) from None
        return JSONResponse({"sender": sender}, headers={"Cache-Control": "no-store"})

    @router.post("/api/kiosk/session/end")
    async def end_session(request: Request) -> dict[str, Any]:
        from bot.app import read_json_body  # the app module imports this one

        data = await read_json_body(request, settings.max_body_bytes, messages.message_too_long(settings.chat_max_chars))
        if not isinstance(data, dict):
            raise ApiError(422, "invalid_body", messages.NOT_AN_OBJECT)
        if "sender" not in data:
            raise ApiError(422, "missing_field", messages.missing_field("sender"), "sender")
        sender = data["sender"]
        if not session.is_kiosk_sender(sender):
            raise ApiError(422, "invalid_value", messages.KIOSK_BAD_SENDER, "sender")
        try:
            return await session.end_session(request.app.state.gateway, sender)
        except RedisError as exc:
            log.warning("kiosk session end failed: %s", type(exc).__name__)
            raise ApiError(503, "kiosk_unavailable", messages.RASA_UNAVAILABLE) from None

    return router
