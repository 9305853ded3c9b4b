"""Every Bot API call the channel makes, with the retries python-telegram-bot recommends.

- 429 ``RetryAfter``: wait the ``retry_after`` Telegram asks for (at most ``MAX_RETRY_AFTER``), then
  try again;
- ``TimedOut`` / ``NetworkError`` (connection trouble, Telegram's 5xx): back off 1 s, 2 s, 4 s …;
- ``BadRequest`` / ``Forbidden`` (the person blocked the bot, a bad chat): not retried.

After ``ATTEMPTS`` tries, or on an error not retried, the failure is logged with the chat id and
``None`` is returned: a failed send is never silently lost, and never an exception in a handler.
A time-out may hide a message that did arrive, so a retry after one can show it twice: for a
citizen, twice is better than never.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError

from bot.telegram.callbacks import CallbackStore
from bot.telegram.document import checklist_document
from bot.telegram.render import Button, CardOut, Outgoing, TextOut

log = logging.getLogger(__name__)

T = TypeVar("T")
ATTEMPTS = 5
FIRST_BACKOFF = 1.0
MAX_BACKOFF = 16.0
MAX_RETRY_AFTER = 60.0


def _seconds(value: float | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


async def call(what: str, chat_id: int | None, make: Callable[[], Awaitable[T]], attempts: int = ATTEMPTS) -> T | None:
    """``await make()`` with retries; its result, or None after logging the failure."""
    backoff = FIRST_BACKOFF
    for attempt in range(1, attempts + 1):
        last = attempt == attempts
        try:
            return await make()
        except RetryAfter as exc:
            wait = min(max(_seconds(exc.retry_after), 0.0), MAX_RETRY_AFTER)
            if last:
                log.error("telegram: %s to chat %s failed: rate limited %d times", what, chat_id, attempts)
                return None
            log.warning("telegram: %s to chat %s rate limited; retrying in %.1fs", what, chat_id, wait)
            await asyncio.sleep(wait)
        except (BadRequest, Forbidden, InvalidToken) as exc:
            log.error("telegram: %s to chat %s refused: %s", what, chat_id, exc)
            return None
        except NetworkError as exc:  # TimedOut is one; Telegram's 5xx too
            if last:
                log.error("telegram: %s to chat %s failed after %d tries: %s", what, chat_id, attempts, exc)
                return None
            log.warning("telegram: %s to chat %s: %s; retrying in %.0fs", what, chat_id, exc, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
        except TelegramError as exc:
            log.error("telegram: %s to chat %s failed: %s", what, chat_id, exc)
            return None
    return None


# --- sending rendered replies ------------------------------------------------------------------------

async def keyboard(buttons: list[Button], callbacks: CallbackStore) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    rows = [[InlineKeyboardButton(b.title, callback_data=await callbacks.data_for(b.payload))] for b in buttons]
    return InlineKeyboardMarkup(rows)


async def send_text(bot: Bot, chat_id: int, text: str, markup: InlineKeyboardMarkup | None = None) -> Message | None:
    return await call("sendMessage", chat_id, lambda: bot.send_message(chat_id, text, reply_markup=markup))


async def send_all(
    bot: Bot,
    chat_id: int,
    items: list[Outgoing],
    callbacks: CallbackStore,
    public_base_url: str | None,
    font: str | None,
) -> int:
    """Send rendered replies in order; how many went out (failures are logged by :func:`call`)."""
    sent = 0
    for item in items:
        if isinstance(item, TextOut):
            markup = await keyboard(item.buttons, callbacks)
            sent += await send_text(bot, chat_id, item.text, markup) is not None
        elif isinstance(item, CardOut):
            doc = await asyncio.to_thread(checklist_document, item.card, public_base_url, font)
            sent += await call(
                "sendDocument",
                chat_id,
                lambda doc=doc: bot.send_document(
                    chat_id, InputFile(doc.data, filename=doc.filename), caption=doc.caption
                ),
            ) is not None
    return sent
