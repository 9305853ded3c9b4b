"""Start ``rasa run`` with the API token from the environment, so it is on no command line.

Run with the Rasa environment: ``.venv/rasa/bin/python scripts/rasa_serve.py -i 127.0.0.1 -p 5005
-m models/current.tar.gz --endpoints endpoints.yml --credentials credentials.yml``
(``scripts/stack.py`` and the systemd unit do). It reads ``RASA_TOKEN`` and calls Rasa's own
command-line entry in this process with ``run --enable-api --auth-token TOKEN`` plus the given
arguments: ``ps`` and ``/proc/<pid>/cmdline`` show only the arguments above, while the token
stays in the process environment, which only its user and root can read.

``--standby`` (used by scripts/stack.py for Rasa's warm standby): load the model as usual, print
``STANDBY_READY``, then wait, without listening on the port, until a line arrives on standard
input; only then bind the port and serve. A Rasa restart after a crash then takes well under a
second instead of a cold start's ~25 s (imports, the intent classifier, TED's TensorFlow graph).
End of input (the supervisor is gone) ends the process.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

MIN_TOKEN_LENGTH = 16
STANDBY_READY = "rasa_serve: standby ready (model loaded, waiting for the go)"


def rasa_argv(token: str, extra: list[str]) -> list[str]:
    if any(a == "--auth-token" or a.startswith("--auth-token=") for a in extra):
        raise SystemExit("Do not pass --auth-token on the command line: set RASA_TOKEN instead.")
    return ["rasa", "run", "--enable-api", "--auth-token", token, *extra]


def wait_for_go_after_loading() -> None:
    """Make Rasa load its model, then wait for a line on stdin before it binds the port.

    Rasa loads the model in a ``before_server_start`` listener (``rasa.core.run.
    load_agent_on_start``); Sanic 21.12 binds the port only after those listeners ran.
    """
    import rasa.core.run as rasa_run

    original = rasa_run.load_agent_on_start

    async def load_then_wait(*args: Any, **kwargs: Any) -> Any:
        agent = await original(*args, **kwargs)
        print(STANDBY_READY, flush=True)
        line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        if not line:
            print("rasa_serve: standby released without a go; exiting", flush=True)
            os._exit(0)
        print("rasa_serve: standby promoted; serving", flush=True)
        return agent

    rasa_run.load_agent_on_start = load_then_wait


def main() -> None:
    token = os.environ.get("RASA_TOKEN", "").strip()
    if len(token) < MIN_TOKEN_LENGTH:
        raise SystemExit(
            f"RASA_TOKEN is missing or shorter than {MIN_TOKEN_LENGTH} characters: start Rasa through "
            "'make run' (scripts/stack.py keeps one in var/rasa_token) or set it."
        )
    args = sys.argv[1:]
    standby = "--standby" in args
    sys.argv = rasa_argv(token, [a for a in args if a != "--standby"])
    from rasa.__main__ import main as rasa_main

    if standby:
        wait_for_go_after_loading()

    rasa_main()


if __name__ == "__main__":
    main()
