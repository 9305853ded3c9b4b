"""Serve the ``actions`` package in one process, refusing calls without the shared secret.

Run with the app environment: ``.venv/app/bin/python scripts/actions_serve.py --port 5055``
(``scripts/stack.py`` and the systemd unit do). Differences from ``python -m rasa_sdk``:

- one process (Sanic ``single_process``): no worker child that could be orphaned, keep the
  port or hang on its own while the parent answers;
- every route except ``GET /health`` needs ``Authorization: Bearer $ACTION_SERVER_TOKEN``
  (Rasa sends it: ``endpoints.yml`` ``action_endpoint.headers``); a call without it gets 401,
  a wrong one 403, both JSON. The secret is compared with ``hmac.compare_digest``;
- binds ``SANIC_HOST`` (default 127.0.0.1), never 0.0.0.0 by accident.
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOKEN_VAR = "ACTION_SERVER_TOKEN"
OPEN_PATHS = frozenset({"/health"})
MIN_TOKEN_LENGTH = 16


def secret_from_env(env: dict[str, str] | os._Environ[str] = os.environ) -> str:
    """The shared secret, or SystemExit with a sentence saying what to do."""
    token = env.get(TOKEN_VAR, "").strip()
    if len(token) < MIN_TOKEN_LENGTH:
        raise SystemExit(
            f"{TOKEN_VAR} is missing or shorter than {MIN_TOKEN_LENGTH} characters: start the action "
            "server through 'make run' (scripts/stack.py makes one in var/action_token) or set it."
        )
    return token


def authorised(header: str | None, secret: str) -> int | None:
    """None when ``header`` carries the secret, else the HTTP status to refuse with (401/403)."""
    if not header:
        return 401
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value:
        return 401
    if not hmac.compare_digest(value.strip().encode(), secret.encode()):
        return 403
    return None


def build_app(secret: str):  # -> sanic.Sanic (imported lazily: rasa_sdk is slow to import)
    from rasa_sdk.endpoint import create_app_for_serve
    from rasa_sdk.executor import ActionExecutor
    from sanic import response
    from sanic.request import Request

    executor = ActionExecutor()
    executor.register_package("actions")
    # No CORS: only Rasa calls this server, never a browser.
    app = create_app_for_serve(executor, cors_origins="", endpoints=str(ROOT / "endpoints.yml"))
    log = logging.getLogger("actions_serve")

    @app.on_request(priority=100)
    async def require_secret(request: Request):  # type: ignore[no-untyped-def]
        if request.path in OPEN_PATHS and request.method in ("GET", "HEAD"):
            return None
        status = authorised(request.headers.get("authorization"), secret)
        if status is None:
            return None
        log.warning("refused %s %s from %s: %s", request.method, request.path, request.ip,
                    "no secret" if status == 401 else "wrong secret")
        error = "missing action server token" if status == 401 else "wrong action server token"
        return response.json({"error": error}, status=status)

    return app


def warm_knowledge() -> None:
    """Load the knowledge service (catalogue, index, sentence-transformers model: about 10 s; spaCy) in a
    background thread while the server starts, so the first person does not wait for it. A failure
    here is only logged: the first action that needs the service tries again and says sorry."""
    import threading

    def load() -> None:
        from actions import knowledge_client
        from knowledge import sentences

        try:
            knowledge_client.service_factory()
            sentences.warm()  # spaCy, for the first long message
        except Exception:  # noqa: BLE001 (logged; the actions report it to the person)
            logging.getLogger("actions_serve").exception("knowledge service could not be loaded ahead")

    threading.Thread(target=load, name="knowledge-warm-up", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-p", "--port", type=int, default=int(os.environ.get("ACTION_PORT", "5055")))
    args = parser.parse_args(argv)
    secret = secret_from_env()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    app = build_app(secret)
    warm_knowledge()
    host = os.environ.get("SANIC_HOST", "127.0.0.1")
    app.run(host=host, port=args.port, single_process=True, access_log=False, motd=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
