"""The Telegram channel: its own process (``python -m bot.telegram``), one python-telegram-bot
``Application`` that calls the gateway core in-process (``bot.app.reply_to``). See docs/telegram.md.

- ``wiring``: settings check, the Application, polling or webhook, start and stop;
- ``handlers``: commands, text, button presses, bad input, the error handler;
- ``render``: Rasa's replies -> Telegram messages with inline keyboards (``split`` cuts long text);
- ``callbacks``: button payloads -> ``callback_data`` of at most 64 bytes (long ones via Redis);
- ``send``: every Bot API call with retries (429 ``retry_after``, network errors, time-outs);
- ``delivery``: staff messages, queue places and the hand-back pushed into the chat (Redis streams);
- ``document``: the checklist card as a PDF (or a .txt without a CJK font).
"""

from __future__ import annotations

from bot.conversation import TELEGRAM_PREFIX as CONVERSATION_PREFIX


def sender_for(chat_id: int) -> str:
    """The channel's sender id (and conversation id) of a Telegram chat: ``tg-<chat_id>``."""
    return f"{CONVERSATION_PREFIX}{chat_id}"


def chat_for(conversation: str) -> int | None:
    """The chat id behind a ``tg-<chat_id>`` conversation id; None for any other id."""
    if not conversation.startswith(CONVERSATION_PREFIX):
        return None
    try:
        return int(conversation[len(CONVERSATION_PREFIX):])
    except ValueError:
        return None
