"""Async client for Rasa's REST channel (``POST {RASA_URL}/webhooks/rest/webhook``).

Transport only: it turns every way Rasa can fail (refused, timeout, 5xx, a reply that is not a JSON
list of objects) into :class:`RasaUnavailable`, and returns the reply otherwise. What to tell the user
then is decided by the caller (``bot.app.reply_to``). Rasa's health is checked in ``bot.health``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urlencode

import httpx

from bot.config import Settings

log = logging.getLogger(__name__)


RESUME_EVENTS: list[dict[str, Any]] = [{"event": "resume"}, {"event": "action", "name": "action_listen"}]


class RasaUnavailable(Exception):
    """Rasa did not give a usable answer; ``reason`` is short and safe to log."""

    def __init__(self, reason: str, *, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.timed_out = timed_out


def normalise_reply(data: Any, sender: str) -> list[dict[str, Any]]:
    """Check the REST-channel reply shape and pass every message through as Rasa sent it.

    Each message keeps all its keys (``text``, ``buttons``, ``image``, ``custom``, ...);
    ``recipient_id`` is set to ``sender`` (Rasa already does so; channels rely on it).
    """
    if not isinstance(data, list):
        raise RasaUnavailable(f"unexpected reply: {type(data).__name__}, not a list")
    replies: list[dict[str, Any]] = []
    for item in data:
        if not isinstance(item, dict):
            raise RasaUnavailable(f"unexpected reply item: {type(item).__name__}, not an object")
        replies.append({**item, "recipient_id": sender})
    return drop_repeats(replies)


CORE_FALLBACK = "core"


def resolve_core_fallback(replies: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], bool]:
    """Turn Rasa's core fallback (``utter_core_fallback`` in domain.yml: a message
    ``{"custom": {"fallback": "core", "text": ...}}``, predicted when no policy knows the next
    step) into a plain text message, and tell whether there was one. The gateway then checks
    the action server: a failed custom action is the usual reason Rasa has no next step."""
    resolved: list[dict[str, Any]] = []
    fell_back = False
    for message in replies:
        custom = message.get("custom")
        if isinstance(custom, dict) and custom.get("fallback") == CORE_FALLBACK:
            fell_back = True
            text = custom.get("text")
            if isinstance(text, str) and text:
                resolved.append({"recipient_id": message.get("recipient_id"), "text": text})
            continue
        resolved.append(message)
    return resolved, fell_back


def drop_repeats(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The reply without a message that repeats the one right before it. A dialogue state no rule
    or story covers makes Rasa predict its core fallback (utter_core_fallback) again and again, up
    to its limit of predictions per turn; the person should see it once. Logged, as it means a
    rule is missing."""
    kept: list[dict[str, Any]] = []
    for message in replies:
        if kept and message == kept[-1]:
            continue
        kept.append(message)
    if len(kept) < len(replies):
        log.warning("rasa repeated a message %d times in one reply; a rule is missing", len(replies) - len(kept) + 1)
    return kept


class RasaClient:
    """Sends one user message to Rasa and returns its reply messages."""

    def __init__(self, http: httpx.AsyncClient, settings: Settings) -> None:
        self._http = http
        self._url = settings.rasa_webhook_url
        self._settings = settings
        self._timeout = settings.chat_timeout_seconds
        # httpx timeouts are per operation; asyncio.timeout below bounds the whole exchange.
        self._httpx_timeout = httpx.Timeout(self._timeout, connect=min(5.0, self._timeout))

    async def send(self, sender: str, message: str, channel: str = "rest") -> list[dict[str, Any]]:
        # Rasa's REST channel records `input_channel` on the user event; actions read it as the
        # channel. (Not `metadata`: any non-empty metadata makes Rasa 3.6 ~40 ms slower per turn,
        # see docs/gateway.md.)
        payload = {"sender": sender, "message": message, "input_channel": channel}
        try:
            async with asyncio.timeout(self._timeout):
                response = await self._http.post(self._url, json=payload, timeout=self._httpx_timeout)
        except (TimeoutError, httpx.TimeoutException):
            raise RasaUnavailable(f"timeout after {self._timeout:g}s", timed_out=True) from None
        except httpx.HTTPError as exc:
            raise RasaUnavailable(f"unreachable: {type(exc).__name__}: {exc}"[:200]) from None
        if response.status_code != 200:
            raise RasaUnavailable(f"HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            raise RasaUnavailable("reply is not JSON") from None
        return normalise_reply(data, sender)

    async def resume(self, sender: str) -> bool:
        """Un-pause a conversation (after a human handoff). False when Rasa could not be told.

        ``sender`` is the conversation id (``bot.conversation``), as on the ticket. ``action_listen``
        follows the resume: a paused conversation stops right after ``action_handoff``, and Rasa's
        policies expect each user turn to follow ``action_listen``.
        """
        return await self.append_events(sender, RESUME_EVENTS)

    async def append_events(self, conversation: str, events: list[dict[str, Any]]) -> bool:
        """``POST /conversations/{id}/tracker/events``; False when Rasa could not be told."""
        return await self._post_api(conversation, "tracker/events", events) is not None

    async def trigger_intent(self, conversation: str, intent: str) -> list[dict[str, Any]] | None:
        """``POST /conversations/{id}/trigger_intent``: Rasa acts as if the person had sent ``intent``
        and predicts its next actions. Their messages (``recipient_id`` = the conversation id), or
        None when Rasa could not be told or answered something else."""
        data = await self._post_api(
            conversation, "trigger_intent", {"name": intent, "entities": {}}, include_events="NONE"
        )
        if not isinstance(data, dict):
            return None
        try:
            return normalise_reply(data.get("messages", []), conversation)
        except RasaUnavailable as exc:
            log.warning("rasa trigger_intent: %s", exc.reason)
            return None

    async def _post_api(self, conversation: str, endpoint: str, body: Any, **params: str) -> Any:
        """A call to Rasa's HTTP API for one conversation: the JSON answer, or None on any failure."""
        try:
            url = self._settings.rasa_conversation_url(conversation, endpoint)
            if params:  # appended here: httpx's ``params=`` would replace the token's query
                url += ("&" if "?" in url else "?") + urlencode(params)
        except ValueError:
            log.warning("rasa %s: not a conversation id; not sent", endpoint)
            return None
        try:
            async with asyncio.timeout(self._timeout):
                response = await self._http.post(url, json=body, timeout=self._httpx_timeout)
        except (TimeoutError, httpx.HTTPError) as exc:
            log.warning("rasa %s for a conversation failed: %s", endpoint, type(exc).__name__)
            return None
        if response.status_code != 200:
            log.warning("rasa %s answered HTTP %s", endpoint, response.status_code)
            return None
        try:
            return response.json()
        except ValueError:
            log.warning("rasa %s answered something that is not JSON", endpoint)
            return None
