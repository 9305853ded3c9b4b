"""The Telegram process: settings check, one python-telegram-bot ``Application``, polling or webhook.

``serve`` opens the gateway core exactly as the FastAPI app does (``bot.app.open_gateway``), builds
the Application (``TELEGRAM_API_BASE`` as the Bot API base URL), installs the handlers
(``bot.telegram.handlers``) and the staff-message delivery (``bot.telegram.delivery``), then:

- ``TELEGRAM_MODE=polling`` (default): ``getUpdates`` long polling (the webhook is removed first);
- ``TELEGRAM_MODE=webhook``: a webhook server on ``TELEGRAM_LISTEN_HOST:TELEGRAM_LISTEN_PORT`` at the
  path of ``TELEGRAM_WEBHOOK_URL``; ``setWebhook`` registers that URL with ``TELEGRAM_SECRET``, and a
  request without the ``X-Telegram-Bot-Api-Secret-Token`` header, or with another value, is refused
  (403, python-telegram-bot's webhook server).

Telegram unreachable at start (the county server's uplink is down): it tries again with back-off
(up to ``START_BACKOFF_MAX`` seconds between tries) instead of exiting, so the rest of the stack is
not disturbed. A token Telegram refuses stops the process (exit code 2).
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from telegram import BotCommand, Update
from telegram.error import InvalidToken, NetworkError, RetryAfter
from telegram.ext import Application

from bot.app import open_gateway
from bot.config import Settings
from bot.telegram import send
from bot.telegram.delivery import Delivery
from bot.telegram.handlers import COMMANDS, Channel

log = logging.getLogger(__name__)

CONCURRENT_UPDATES = 64  # updates handled at once (different chats; one chat waits its turn)
START_BACKOFF_MAX = 60.0
HEARTBEAT_SECONDS = 5.0
DEFAULT_WEBHOOK_PATH = "telegram"


class NoToken(Exception):
    pass


def problems(settings: Settings) -> list[str]:
    """What stops the channel from starting with these settings (an empty list: nothing)."""
    found: list[str] = []
    if settings.telegram_mode == "webhook":
        if not settings.telegram_secret:
            found.append("TELEGRAM_MODE=webhook needs TELEGRAM_SECRET (1-256 characters A-Z a-z 0-9 _ -), "
                         "so that only Telegram can post updates")
        url = settings.telegram_webhook_url or ""
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            found.append("TELEGRAM_MODE=webhook needs TELEGRAM_WEBHOOK_URL, the public https URL Telegram posts to")
    if not settings.telegram_api_base.startswith(("http://", "https://")):
        found.append("TELEGRAM_API_BASE must be an http(s) URL such as https://api.telegram.org/bot")
    return found


def webhook_path(settings: Settings) -> str:
    path = urlsplit(settings.telegram_webhook_url or "").path.strip("/")
    return path or DEFAULT_WEBHOOK_PATH


def file_base(api_base: str) -> str:
    """``…/bot`` -> ``…/file/bot`` (where the Bot API serves files)."""
    base = api_base.rstrip("/")
    head, _, tail = base.rpartition("/")
    return f"{head}/file/{tail}" if head else base


def build_application(settings: Settings) -> Application[Any, Any, Any, Any, Any, Any]:
    if not settings.telegram_token:
        raise NoToken
    return (
        Application.builder()
        .token(settings.telegram_token)
        .base_url(settings.telegram_api_base)
        .base_file_url(file_base(settings.telegram_api_base))
        .concurrent_updates(CONCURRENT_UPDATES)
        .build()
    )


def load_situations(settings: Settings) -> list[dict[str, str]]:
    """The common situations of the /start menu: the kiosk's list (``KIOSK_SITUATIONS_FILE``),
    titles from the catalogue."""
    from bot.kiosk.situations import DEFAULT_FILE, catalogue_titles
    from bot.kiosk.situations import load_situations as load

    path = Path(settings.kiosk_situations_file) if settings.kiosk_situations_file else DEFAULT_FILE
    try:
        titles = catalogue_titles()
    except (OSError, ValueError) as exc:
        log.error("telegram: catalogue unreadable, /start shows no situations: %s", exc)
        return []
    return load(path, titles)


async def _heartbeat(path: Path) -> None:
    """Touch ``path`` every few seconds while the event loop runs (the supervisor's health probe)."""
    while True:
        try:
            await asyncio.to_thread(path.touch)
        except OSError as exc:
            log.warning("telegram: heartbeat file %s: %s", path, exc)
        await asyncio.sleep(HEARTBEAT_SECONDS)


async def _initialize(app: Application[Any, Any, Any, Any, Any, Any], stop: asyncio.Event) -> bool:
    """``getMe`` and the rest of the start-up, retried with back-off while Telegram is unreachable."""
    backoff = 1.0
    while not stop.is_set():
        try:
            await app.initialize()
            return True
        except RetryAfter as exc:
            wait = send._seconds(exc.retry_after)
        except NetworkError as exc:
            wait = backoff
            backoff = min(backoff * 2, START_BACKOFF_MAX)
            log.warning("telegram: Bot API unreachable (%s); trying again in %.0fs", exc, wait)
        try:
            await asyncio.wait_for(stop.wait(), wait)
        except TimeoutError:
            pass
    return False


async def serve(
    settings: Settings,
    stop: asyncio.Event,
    *,
    poll_timeout: int = 10,
    heartbeat_file: Path | None = None,
    ready: asyncio.Event | None = None,
) -> int:
    """Run the channel until ``stop`` is set; the exit code (0, or 2 for a token Telegram refuses)."""
    heartbeat = asyncio.create_task(_heartbeat(heartbeat_file)) if heartbeat_file else None
    core = settings.model_copy(update={"knowledge_preload": False})  # the things API is not served here
    try:
        async with open_gateway(core) as gateway:
            app = build_application(settings)
            channel = Channel(gateway, settings, await asyncio.to_thread(load_situations, settings))
            channel.install(app)
            try:
                if not await _initialize(app, stop):
                    return 0
            except InvalidToken:
                log.error("telegram: the Bot API refused TELEGRAM_TOKEN; check the token from @BotFather")
                return 2
            delivery = Delivery(gateway.redis, gateway.blocking, app.bot, channel.send_replies)
            started = time.monotonic()
            await app.start()
            try:
                assert app.updater is not None
                if settings.telegram_mode == "webhook":
                    await app.updater.start_webhook(
                        listen=settings.telegram_listen_host,
                        port=settings.telegram_listen_port,
                        url_path=webhook_path(settings),
                        webhook_url=settings.telegram_webhook_url,
                        secret_token=settings.telegram_secret,
                        allowed_updates=Update.ALL_TYPES,
                        bootstrap_retries=-1,
                    )
                    where = f"webhook on {settings.telegram_listen_host}:{settings.telegram_listen_port}/{webhook_path(settings)}"
                else:
                    await app.updater.start_polling(
                        timeout=poll_timeout, allowed_updates=Update.ALL_TYPES, bootstrap_retries=-1
                    )
                    where = "long polling"
                commands = [BotCommand(name, text) for name, text in COMMANDS]
                await send.call("setMyCommands", None, lambda: app.bot.set_my_commands(commands))
                delivery.start()
                log.info("telegram channel on as @%s (%s), ready in %.1fs",
                         app.bot.username, where, time.monotonic() - started)
                if ready is not None:
                    ready.set()
                await stop.wait()
            finally:
                await delivery.stop()
                if app.updater is not None and app.updater.running:
                    await app.updater.stop()
                await app.stop()
                await app.shutdown()
    finally:
        if heartbeat is not None:
            heartbeat.cancel()
    log.info("telegram channel stopped")
    return 0
