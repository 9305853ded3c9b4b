"""Shared glue for the case actions: the Redis client, the channel, the sender and phone numbers."""

from __future__ import annotations

import re

import redis
from rasa_sdk import Tracker

from actions.config import SETTINGS
from actions.latest import latest_channel

DEFAULT_CHANNEL = "rest"

# Mobile 1[3-9]xxxxxxxxx, or a Shaoyang landline 0739-xxxxxxx (hyphen and spaces optional).
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d{9})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)0739-?(\d{7})(?!\d)")


def redis_client() -> redis.Redis:
    """A client on ``REDIS_URL`` (the same server as the handoff tickets; app keys start with ``yjs:``)."""
    return redis.Redis.from_url(SETTINGS.redis_url, socket_connect_timeout=3.0, socket_timeout=3.0)


def find_phone(text: str | None) -> str | None:
    """The first mobile or 0739 landline number in ``text``, normalised; None when there is none."""
    if not text:
        return None
    compact = re.sub(r"[\s\u3000]", "", text).replace("－", "-").replace("—", "-")
    mobile = _MOBILE.search(compact)
    if mobile:
        return mobile.group(1)
    landline = _LANDLINE.search(compact)
    if landline:
        return f"0739-{landline.group(1)}"
    return None


def channel_of(tracker: Tracker) -> str:
    """Channel the person writes from (``input_channel``, set by the gateway), else rest."""
    return latest_channel(tracker) or DEFAULT_CHANNEL


