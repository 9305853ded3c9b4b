"""Conversation ids: the one place where a channel's sender id becomes the id used towards Rasa.

A channel's sender id is opaque: a web client may use ``web:42``, a kiosk ``张三``, anything. That id
ends up in URL paths (Rasa's HTTP API: ``/conversations/{id}/tracker/events``), in Redis keys (Rasa's
tracker and lock store, ``yjs:handoff:by_sender:<id>``, rate limits) and on tickets written by the
action server (``tracker.sender_id``). Rasa (sanic) does not percent-decode path segments, so
``a/b`` quoted as ``a%2Fb`` names another conversation; ``.`` and ``..`` are path dot-segments.

So every sender id goes through :func:`conversation_id` once, at the start of the channel-independent
core (``bot.app.reply_to``), and everything after that uses the conversation id:

- ids made only of ``[A-Za-z0-9_-][A-Za-z0-9_.-]*`` are kept as they are (readable logs, tickets);
- anything else becomes ``~`` + base64url(UTF-8) without padding. ``~`` never starts a kept id, so the
  mapping is injective, and the result is safe in URL paths, Redis keys and Rasa's tracker keys.

:func:`sender_id` turns a conversation id back into the channel's sender id (for what a person or
staff member sees: ``recipient_id`` of replies, the staff console).
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata

ENCODED_PREFIX = "~"
# Sender ids the channels make themselves start with their prefix, and Rasa's ``input_channel``
# (recorded on tickets, cases, ratings and bookings) follows from it; any other id is "rest".
KIOSK_PREFIX = "kiosk-"  # bot.kiosk.session: kiosk-<random>
TELEGRAM_PREFIX = "tg-"  # bot.telegram: tg-<chat_id>
CHANNEL_PREFIXES = {KIOSK_PREFIX: "kiosk", TELEGRAM_PREFIX: "telegram"}
_KEPT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")
_ENCODED = re.compile(r"~[A-Za-z0-9_-]+")


class InvalidSender(ValueError):
    """A sender id no channel may use: empty, too long, control characters or not valid UTF-8."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "empty" | "too_long" | "invalid_characters"


def is_kept(sender: str) -> bool:
    """True when the sender id is used as the conversation id unchanged."""
    return _KEPT.fullmatch(sender) is not None


def conversation_id(sender: str) -> str:
    """The conversation id of a channel's sender id (a kept id as is, else ``~`` + base64url)."""
    if is_kept(sender):
        return sender
    encoded = base64.urlsafe_b64encode(sender.encode("utf-8")).rstrip(b"=").decode("ascii")
    return ENCODED_PREFIX + encoded


def channel_of(sender: str) -> str:
    """The channel name of a sender id: kiosk, telegram or rest. A label for the records, not a
    proof: a REST client may pick any id."""
    return next((name for prefix, name in CHANNEL_PREFIXES.items() if sender.startswith(prefix)), "rest")


def is_conversation_id(value: str) -> bool:
    """True for any value :func:`conversation_id` can return (safe in a URL path as it is)."""
    return is_kept(value) or _ENCODED.fullmatch(value) is not None


def sender_id(conversation: str) -> str:
    """The channel's sender id behind a conversation id. Anything that is not an encoded id is
    returned as it is (a kept id, or an id Rasa got from somewhere else)."""
    if _ENCODED.fullmatch(conversation) is None:
        return conversation
    body = conversation[len(ENCODED_PREFIX):]
    try:
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return conversation


def _is_control(char: str) -> bool:
    # Cc: C0/C1 controls and DEL; Cs: lone surrogates (from JSON "\ud800" escapes); line and
    # paragraph separators break log lines too.
    return unicodedata.category(char) in ("Cc", "Cs") or char in "\u2028\u2029"


def check_sender(sender: str, max_chars: int) -> str:
    """Validate a channel's sender id at the edge; raises :class:`InvalidSender`."""
    if not sender.strip():
        raise InvalidSender("empty")
    if len(sender) > max_chars:
        raise InvalidSender("too_long")
    if any(_is_control(c) for c in sender):
        raise InvalidSender("invalid_characters")
    try:
        sender.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidSender("invalid_characters") from None
    return sender
