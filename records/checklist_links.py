"""Checklist links: a finished personal checklist kept under a random token for a while, so a QR code
(kiosk) or a link (Telegram) opens the same list on a phone.

Key:

- ``yjs:checklist:link:<token>``  string (JSON ``{"title", "codes", "text", "created"}``) with an expiry
  (``ttl_seconds``; the gateway's ``CHECKLIST_LINK_DAYS``, default 7 days). After it expires the link
  shows nothing: the record is gone.

Tokens are ``secrets.token_urlsafe(16)`` (128 random bits, 22 characters of ``[A-Za-z0-9_-]``), so a
link cannot be guessed; ``is_token`` checks the shape before any look-up.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Sequence

import redis.asyncio
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from records.errors import Invalid

PREFIX = "yjs:checklist:link:"
DEFAULT_TTL_SECONDS = 7 * 24 * 3600
MAX_TEXT_CHARS = 20_000
MAX_TITLE_CHARS = 500
MAX_CODES = 10
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


class ChecklistLink(BaseModel):
    model_config = ConfigDict(extra="ignore")

    title: str = Field(max_length=MAX_TITLE_CHARS)
    codes: list[str] = Field(max_length=MAX_CODES)
    text: str = Field(max_length=MAX_TEXT_CHARS)
    created: float


def link_key(token: str) -> str:
    return f"{PREFIX}{token}"


def is_token(value: str) -> bool:
    return bool(_TOKEN.fullmatch(value))


def new_token() -> str:
    return secrets.token_urlsafe(16)


async def create_link(
    client: redis.asyncio.Redis,
    title: str,
    codes: Sequence[str],
    text: str,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    now: float | None = None,
) -> str:
    """Store a checklist; its token. ``Invalid`` for an empty text, a bad shape or a TTL under 1 s."""
    if int(ttl_seconds) < 1:
        raise Invalid("ttl must be at least 1 second")
    try:
        link = ChecklistLink(
            title=str(title).strip(),
            codes=[str(c) for c in codes],
            text=str(text),
            created=time.time() if now is None else now,
        )
    except ValidationError as exc:
        raise Invalid(f"bad checklist: {exc.error_count()} problem(s)", message="清单内容不符合要求。") from None
    if not link.text.strip():
        raise Invalid("empty checklist text", message="清单是空的。")
    token = new_token()
    await client.set(link_key(token), link.model_dump_json(), ex=int(ttl_seconds), nx=True)
    return token


async def get_link(client: redis.asyncio.Redis, token: str) -> ChecklistLink | None:
    """The checklist behind ``token``, or None (unknown, malformed or expired)."""
    if not is_token(token):
        return None
    raw = await client.get(link_key(token))
    if raw is None:
        return None
    try:
        return ChecklistLink.model_validate(json.loads(raw))
    except (ValueError, ValidationError):
        return None


async def seconds_left(client: redis.asyncio.Redis, token: str) -> int | None:
    """Seconds until the link expires (None when it does not exist)."""
    if not is_token(token):
        return None
    ttl = int(await client.ttl(link_key(token)))
    return ttl if ttl >= 0 else None
