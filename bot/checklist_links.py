"""Checklist links for every channel: a finished checklist in a reply gets a phone link and a QR code.

The action server ends a finished personal checklist with a message
``{"custom": {"checklist": {"codes", "title", "text"}}}`` (``actions/checklist.py`` ``checklist_card``).
``decorate`` (called by ``bot.app.reply_to``) stores it (``records.checklist_links``, for
``CHECKLIST_LINK_DAYS``) and adds to that ``checklist`` object:

- ``url``: ``/c/<token>``, a relative path (the channel puts its own base in front, or uses
  ``public_url``);
- ``qr``: ``/c/<token>/qr.svg``, an SVG QR code made here with ``segno``; it encodes the absolute URL
  (``PUBLIC_BASE_URL`` + ``url``, else the base URL of the request for the image);
- ``expires_at``: unix seconds;
- ``public_url``: the absolute URL, only when ``PUBLIC_BASE_URL`` is set.

When Redis cannot store it, the checklist goes out without these keys (and one log line).

Routes: ``GET /c/{token}`` a small page with the checklist (text escaped, never HTML), or after
expiry a 404 page that shows nothing of it; ``GET /c/{token}/qr.svg``; ``GET /c/static/checklist.css``.
"""

from __future__ import annotations

import html
import io
import logging
import time
from pathlib import Path
from typing import Any

import redis.asyncio
import segno
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from redis.exceptions import RedisError

from bot import messages
from bot.config import Settings
from bot.schemas import ApiError
from records import checklist_links
from records.errors import Invalid
from records.service_hours import ServiceSettings, local

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "kiosk" / "static" / "checklist.css"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
}


def ttl_seconds(settings: Settings) -> int:
    return max(1, round(settings.checklist_link_days * 86400))


def link_path(token: str) -> str:
    return f"/c/{token}"


def base_url(settings: Settings, request: Request) -> str:
    return settings.public_base_url or str(request.base_url).rstrip("/")


async def decorate(
    client: redis.asyncio.Redis, replies: list[dict[str, Any]], settings: Settings
) -> list[dict[str, Any]]:
    """``replies`` with every ``custom.checklist`` given ``url``, ``qr`` and ``expires_at``."""
    out = []
    for reply in replies:
        custom = reply.get("custom")
        card = custom.get("checklist") if isinstance(custom, dict) else None
        if isinstance(card, dict) and "url" not in card:
            card = await _linked(client, card, settings)
            reply = {**reply, "custom": {**custom, "checklist": card}}  # type: ignore[dict-item]
        out.append(reply)
    return out


async def _linked(client: redis.asyncio.Redis, card: dict[str, Any], settings: Settings) -> dict[str, Any]:
    codes = card.get("codes") if isinstance(card.get("codes"), list) else []
    ttl = ttl_seconds(settings)
    try:
        token = await checklist_links.create_link(
            client, str(card.get("title") or ""), codes, str(card.get("text") or ""), ttl
        )
    except (RedisError, Invalid, OSError) as exc:
        log.warning("checklist link not stored: %s", type(exc).__name__)
        return card
    url = link_path(token)
    extra: dict[str, Any] = {"url": url, "qr": f"{url}/qr.svg", "expires_at": round(time.time() + ttl)}
    if settings.public_base_url:
        extra["public_url"] = settings.public_base_url + url
    return {**card, **extra}


def qr_svg(url: str) -> bytes:
    """An SVG QR code of ``url`` (error correction M, 4-module quiet zone, black on white)."""
    buffer = io.BytesIO()
    segno.make(url, error="m", micro=False).save(
        buffer, kind="svg", scale=8, border=4, dark="#000", light="#fff", title="清单二维码", xmldecl=False
    )
    return buffer.getvalue()


def _page(title: str, body: str, status: int) -> HTMLResponse:
    doc = (
        '<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        '<link rel="stylesheet" href="/c/static/checklist.css"></head>'
        f'<body><main class="sheet">{body}</main></body></html>'
    )
    return HTMLResponse(doc, status_code=status, headers=HEADERS)


def checklist_page(link: checklist_links.ChecklistLink, expires_at: float | None) -> HTMLResponse:
    lines = [line for line in link.text.splitlines() if line.strip()]
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    until = ""
    if expires_at is not None:
        day = local(expires_at, ServiceSettings.from_env()).strftime("%Y-%m-%d")
        until = f'<p class="note">{html.escape(messages.checklist_link_until(day))}</p>'
    body = (
        f'<h1 id="checklist-title">{html.escape(link.title or messages.CHECKLIST_DEFAULT_TITLE)}</h1>'
        f'<ul class="lines" aria-labelledby="checklist-title">{items}</ul>'
        f'<p class="note">{html.escape(messages.CHECKLIST_LINK_FOOTER)}</p>{until}'
    )
    return _page(link.title or messages.CHECKLIST_DEFAULT_TITLE, body, 200)


def expired_page() -> HTMLResponse:
    body = (
        f'<h1 id="expired">{html.escape(messages.CHECKLIST_LINK_EXPIRED_TITLE)}</h1>'
        f'<p class="note">{html.escape(messages.CHECKLIST_LINK_EXPIRED)}</p>'
    )
    return _page(messages.CHECKLIST_LINK_EXPIRED_TITLE, body, 404)


def create_router(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["checklist"])

    def redis_of(request: Request) -> redis.asyncio.Redis:
        return request.app.state.gateway.redis

    @router.get("/c/static/checklist.css", include_in_schema=False)
    async def stylesheet() -> FileResponse:
        return FileResponse(STATIC, media_type="text/css; charset=utf-8", headers={"Cache-Control": "no-cache"})

    @router.get("/c/{token}", include_in_schema=False)
    async def show(request: Request, token: str) -> HTMLResponse:
        if not checklist_links.is_token(token):
            return expired_page()
        client = redis_of(request)
        try:
            link = await checklist_links.get_link(client, token)
            left = await checklist_links.seconds_left(client, token) if link else None
        except RedisError as exc:
            log.warning("checklist link read failed: %s", type(exc).__name__)
            raise ApiError(503, "checklist_unavailable", messages.RASA_UNAVAILABLE) from None
        if link is None:
            return expired_page()
        return checklist_page(link, time.time() + left if left is not None else None)

    @router.get("/c/{token}/qr.svg", include_in_schema=False)
    async def qr(request: Request, token: str) -> Response:
        try:
            link = await checklist_links.get_link(redis_of(request), token)
        except RedisError as exc:
            log.warning("checklist link read failed: %s", type(exc).__name__)
            raise ApiError(503, "checklist_unavailable", messages.RASA_UNAVAILABLE) from None
        if link is None:
            raise ApiError(404, "not_found", messages.CHECKLIST_LINK_EXPIRED, "token")
        svg = qr_svg(base_url(settings, request) + link_path(token))
        return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})

    return router
