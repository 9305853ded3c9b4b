"""``python -m bot``: serve the gateway with uvicorn, configured from the environment (bot.config)."""

from __future__ import annotations

import logging
import sys

from bot.app import create_app
from bot.config import Settings, SettingsError
from bot.server import serve


def main() -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"bot: {exc}", file=sys.stderr)
        return 2
    level = settings.log_level.upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs request URLs at INFO; the Rasa status URL carries the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    serve(create_app(settings), settings)  # uvicorn with read time-outs and a connection limit
    return 0


if __name__ == "__main__":
    sys.exit(main())
