"""What the bot does with each update: commands, text, button presses and anything else.

Every chat is one conversation, ``tg-<chat_id>`` (``bot.telegram.sender_for``). Updates of one chat
are handled one after the other (a lock per chat), different chats at the same time. Every text goes
through the gateway core, ``bot.app.reply_to`` (fair use, handoff routing, offered buttons, Rasa).
Only private chats are served: in a group everyone would share one conversation.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import messages
from bot.app import Gateway, reply_to, restart
from bot.config import Settings
from bot.fairuse import Busy
from bot.telegram import send, sender_for
from bot.telegram.callbacks import SITUATION, CallbackStore
from bot.telegram.render import render

log = logging.getLogger(__name__)

ASK_HUMAN = "/ask_human"  # the intent /human sends (offered to the conversation by the command menu)
COMMANDS = [
    ("start", "开始，看看常办的事"),
    ("help", "怎么用小助手"),
    ("human", "找工作人员"),
    ("restart", "重新开始"),
]


class Channel:
    """The Telegram channel's state: the gateway core, the button table, the situations, locks."""

    def __init__(self, gateway: Gateway, settings: Settings, situations: list[dict[str, str]]) -> None:
        self.gateway = gateway
        self.settings = settings
        self.callbacks = CallbackStore(gateway.redis, settings.button_payloads_ttl_seconds)
        self.situations = situations  # [{"label", "code", "title", "message"}] (bot.kiosk.situations)
        self._by_code = {s["code"]: s for s in situations}
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    # --- wiring --------------------------------------------------------------------------------------

    def install(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        private = filters.ChatType.PRIVATE
        new = filters.UpdateType.MESSAGE
        app.add_handler(CommandHandler("start", self.on_start, filters=private & new))
        app.add_handler(CommandHandler("help", self.on_help, filters=private & new))
        app.add_handler(CommandHandler("human", self.on_human, filters=private & new))
        app.add_handler(CommandHandler("restart", self.on_restart, filters=private & new))
        app.add_handler(MessageHandler(private & new & filters.TEXT, self.on_text))  # other /commands too
        app.add_handler(MessageHandler(private & filters.UpdateType.EDITED, self.on_edited))
        app.add_handler(MessageHandler(private & new & ~filters.TEXT & ~filters.StatusUpdate.ALL, self.on_other))
        app.add_handler(MessageHandler(~private & new & filters.COMMAND, self.on_group))
        app.add_handler(CallbackQueryHandler(self.on_button))
        app.add_error_handler(self.on_error)

    # --- helpers -------------------------------------------------------------------------------------

    @asynccontextmanager
    async def chat_turn(self, chat_id: int) -> AsyncIterator[None]:
        """One update of a chat at a time, in the order they came."""
        lock, users = self._locks.get(chat_id, (asyncio.Lock(), 0))
        self._locks[chat_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[chat_id]
            if users <= 1:
                del self._locks[chat_id]
            else:
                self._locks[chat_id] = (lock, users - 1)

    def situations_keyboard(self) -> InlineKeyboardMarkup | None:
        if not self.situations:
            return None
        buttons = [InlineKeyboardButton(s["label"], callback_data=f"{SITUATION}{s['code']}") for s in self.situations]
        rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]  # short labels: two per row
        return InlineKeyboardMarkup(rows)

    async def send_replies(self, bot: Bot, chat_id: int, replies: list[dict[str, Any]]) -> None:
        await send.send_all(
            bot, chat_id, render(replies), self.callbacks, self.settings.public_base_url, self.settings.telegram_font
        )

    async def converse(self, bot: Bot, chat_id: int, text: str) -> None:
        """Send one message of the person through the gateway core and send the answer back."""
        text = text.strip()
        if not text:
            return
        if len(text) > self.settings.chat_max_chars:
            await send.send_text(bot, chat_id, messages.message_too_long(self.settings.chat_max_chars))
            return
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            await send.send_text(bot, chat_id, messages.TG_ONLY_TEXT)
            return
        try:
            replies = await reply_to(self.gateway, sender_for(chat_id), text)
        except Busy as exc:
            log.info("telegram: chat %s refused for fair use (%s)", chat_id, exc.reason)
            busy = messages.CONVERSATION_BUSY if exc.reason == "conversation_busy" else messages.TOO_MANY_MESSAGES
            await send.send_text(bot, chat_id, busy)
            return
        await self.send_replies(bot, chat_id, replies)

    # --- handlers ------------------------------------------------------------------------------------

    async def on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        assert chat is not None
        async with self.chat_turn(chat.id):
            await send.send_text(context.bot, chat.id, messages.TG_GREETING, self.situations_keyboard())

    async def on_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        assert chat is not None
        async with self.chat_turn(chat.id):
            await send.send_text(context.bot, chat.id, messages.TG_HELP)

    async def on_human(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        assert chat is not None
        async with self.chat_turn(chat.id):
            # The /human command is a button of the bot's menu: offer its payload, then press it.
            offer = [{"buttons": [{"title": "找工作人员", "payload": ASK_HUMAN}]}]
            await self.gateway.buttons.remember(sender_for(chat.id), offer)
            await self.converse(context.bot, chat.id, ASK_HUMAN)

    async def on_restart(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        assert chat is not None
        async with self.chat_turn(chat.id):
            try:
                replies = await restart(self.gateway, sender_for(chat.id))
            except Busy:
                await send.send_text(context.bot, chat.id, messages.TOO_MANY_MESSAGES)
                return
            if any(isinstance(r.get("custom"), dict) and r["custom"].get("error") for r in replies):
                await self.send_replies(context.bot, chat.id, replies)  # the apology: nothing restarted
                return
            await send.send_text(context.bot, chat.id, messages.TG_RESTARTED, self.situations_keyboard())

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat, message = update.effective_chat, update.effective_message
        assert chat is not None and message is not None
        async with self.chat_turn(chat.id):
            await self.converse(context.bot, chat.id, message.text or "")

    async def on_edited(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        assert chat is not None
        async with self.chat_turn(chat.id):
            await send.send_text(context.bot, chat.id, messages.TG_EDITED)

    async def on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A sticker, photo, voice message, document, location …: say what the assistant reads."""
        chat = update.effective_chat
        assert chat is not None
        async with self.chat_turn(chat.id):
            await send.send_text(context.bot, chat.id, messages.TG_ONLY_TEXT)

    async def on_group(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        assert chat is not None
        await send.send_text(context.bot, chat.id, messages.TG_PRIVATE_ONLY)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        message = query.message
        chat_id = message.chat.id if message is not None else query.from_user.id
        if message is not None and message.chat.type != "private":
            await send.call("answerCallbackQuery", chat_id, lambda: query.answer())
            return
        data = query.data or ""
        if data.startswith(SITUATION):
            situation = self._by_code.get(data[len(SITUATION):])
            text, shown = (situation["message"], situation["label"]) if situation else (None, None)
        else:
            text = await self.callbacks.payload_for(data)
            shown = _title_of(message, data)
        if text is None:
            await send.call("answerCallbackQuery", chat_id, lambda: query.answer(messages.TG_BUTTON_EXPIRED))
            await send.send_text(context.bot, chat_id, messages.TG_BUTTON_EXPIRED)
            return
        toast = f"{messages.TG_CHOSEN}{shown}" if shown else None
        await send.call("answerCallbackQuery", chat_id, lambda: query.answer(toast))
        async with self.chat_turn(chat_id):
            if message is not None:  # one press per keyboard: take the buttons away
                await send.call(
                    "editMessageReplyMarkup",
                    chat_id,
                    lambda: context.bot.edit_message_reply_markup(chat_id, message.message_id, reply_markup=None),
                )
            await self.converse(context.bot, chat_id, text)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        log.error(
            "telegram: error while handling an update of chat %s: %r",
            chat.id if chat else None,
            context.error,
            exc_info=context.error,
        )


def _title_of(message: Any, data: str) -> str | None:
    """The title of the pressed button, read from the keyboard of the message it was under."""
    markup = getattr(message, "reply_markup", None)
    for row in getattr(markup, "inline_keyboard", None) or ():
        for button in row:
            if button.callback_data == data:
                return str(button.text)
    return None
