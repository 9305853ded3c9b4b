"""Production watchdog: restart a hung service under systemd (``deploy/systemd/yijianshi-watchdog.service``).

systemd restarts a service whose process exits (``Restart=on-failure``), but not one that hangs: an
action server that holds its port and never answers keeps every chat turn waiting. This loop probes
the action server, Rasa, the gateway and the Telegram channel exactly as ``make run``'s supervisor does
(``scripts/stack.py``: ``health_probes``; one probe every 2 s with a 2 s time-out, 3 failures in a row
= hung) and then runs ``systemctl restart yijianshi-<service>.service``. Only a unit that systemd
reports ``active`` is judged (one that is starting or failed is systemd's business), and after a
restart the service gets ``--grace`` seconds (default 120: a cold Rasa start takes ~25 s) before
it is probed again. Each restart is one line on stdout (journald).

Configuration: the same environment as the services (``/etc/yijianshi/env``: ports, RASA_TOKEN).
Standard library only. ``--max-rounds N`` stops after N probe rounds (tests).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stack  # noqa: E402  (scripts/stack.py, standard library only)

# Redis does not hang in a way a restart cures. Telegram is judged by its heartbeat file
# (TELEGRAM_HEARTBEAT_FILE), and only while its unit is active (it exits when no token is set).
WATCHED = ("actions", "rasa", "gateway", "telegram")


def unit(service: str) -> str:
    return f"yijianshi-{service}.service"


def systemctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["systemctl", *args], capture_output=True, text=True, timeout=90)


def is_active(service: str) -> bool:
    return systemctl("is-active", "--quiet", unit(service)).returncode == 0


def restart(service: str) -> bool:
    done = systemctl("restart", unit(service))
    if done.returncode != 0:
        print(f"watchdog: could not restart {unit(service)}: {done.stderr.strip()}", flush=True)
    return done.returncode == 0


def watch(
    probes: dict[str, Callable[[], str | None]],
    *,
    interval: float,
    hung_after: int,
    grace: float,
    max_rounds: int | None = None,
) -> None:
    failures = dict.fromkeys(probes, 0)
    quiet_until = dict.fromkeys(probes, 0.0)
    rounds = 0
    while max_rounds is None or rounds < max_rounds:
        rounds += 1
        now = time.monotonic()
        for name, probe in probes.items():
            if now < quiet_until[name] or not is_active(name):
                failures[name] = 0
                continue
            reason = probe()
            failures[name] = 0 if reason is None else failures[name] + 1
            if failures[name] >= hung_after:
                print(f"watchdog: {name} is hung: {failures[name]} health probes failed in a row ({reason}); "
                      f"restarting {unit(name)}", flush=True)
                restart(name)
                failures[name] = 0
                quiet_until[name] = time.monotonic() + grace
        time.sleep(interval)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grace", type=float, default=120.0, help="seconds after a restart before probing again")
    parser.add_argument("--max-rounds", type=int, default=None, help="stop after this many rounds (tests)")
    args = parser.parse_args(argv)
    config = stack.StackConfig.from_env()
    probes = stack.health_probes(config)
    print(f"watchdog: watching {', '.join(unit(n) for n in WATCHED)}", flush=True)
    watch(
        {name: probes[name] for name in WATCHED},
        interval=config.probe_interval,
        hung_after=config.hung_after,
        grace=args.grace,
        max_rounds=args.max_rounds,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
