"""The gateway's own web pages (the staff console, the kiosk): one security policy for them and
one way to serve a folder of static files (the checklist phone page, stricter still, has its own:
``bot.checklist_links``)."""

from __future__ import annotations

from pathlib import Path

from fastapi.responses import FileResponse

from bot import messages
from bot.schemas import ApiError

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-cache",
}
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


def static_files(folder: Path) -> dict[str, Path]:
    """Every servable file below ``folder`` by its relative path (read once: a request can only
    name one of these, never a path of its own)."""
    return {
        p.relative_to(folder).as_posix(): p for p in folder.rglob("*") if p.is_file() and p.suffix in MEDIA_TYPES
    }


def page(path: Path) -> FileResponse:
    return FileResponse(path, media_type=MEDIA_TYPES[".html"], headers=PAGE_HEADERS)


def static(files: dict[str, Path], name: str) -> FileResponse:
    path = files.get(name)
    if path is None:
        raise ApiError(404, "not_found", messages.NOT_FOUND)
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix], headers=PAGE_HEADERS)
