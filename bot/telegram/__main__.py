"""``python -m bot.telegram``: the Telegram channel, configured from the environment (bot.config).

No ``TELEGRAM_TOKEN``: one log line and exit code 0 (the channel is off; nothing else is touched).
Bad settings: a message naming the variable and exit code 2. ``TELEGRAM_HEARTBEAT_FILE`` (set by
``scripts/stack.py``): a file touched every few seconds, the supervisor's sign of life.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from bot.config import Settings, SettingsError
from bot.telegram.wiring import problems, serve

log = logging.getLogger("bot.telegram")


async def _main(settings: Settings, heartbeat: Path | None) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return await serve(settings, stop, heartbeat_file=heartbeat)


def main() -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"bot.telegram: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs request URLs at INFO: the Bot API's URLs carry the bot token.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if not settings.telegram_token:
        log.info("telegram channel off: TELEGRAM_TOKEN is not set")
        return 0
    found = problems(settings)
    if found:
        print("bot.telegram: " + "; ".join(found), file=sys.stderr)
        return 2
    heartbeat = os.environ.get("TELEGRAM_HEARTBEAT_FILE", "").strip()
    return asyncio.run(_main(settings, Path(heartbeat) if heartbeat else None))


if __name__ == "__main__":
    sys.exit(main())
