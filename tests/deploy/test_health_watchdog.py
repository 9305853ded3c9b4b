"""The production watchdog (scripts/health_watchdog.py) restarts a hung service through systemctl.

systemd itself cannot run here (no systemd as PID 1), so a stand-in `systemctl` on PATH records the
calls and says every unit is active; the services are real sockets: one that answers, one that
accepts connections and never answers (hung)."""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class _Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = b'{"model_file": "m.tar.gz"}' if self.path.startswith("/status") else b"{}"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _answering_server() -> tuple[http.server.HTTPServer, int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def _watch(tmp_path: Path, action_port: int, port: int, heartbeat: Path, inactive: str = "") -> tuple[str, list[str]]:
    """Run the watchdog for 4 rounds; its stdout and the restarts it asked systemctl for. ``inactive``:
    a unit the stand-in systemctl reports as not active."""
    calls = tmp_path / "calls"
    fake = tmp_path / "bin" / "systemctl"
    fake.parent.mkdir(exist_ok=True)
    inactive_check = f'case "$*" in *"{inactive}"*) [ "$1" = is-active ] && exit 3;; esac\n' if inactive else ""
    fake.write_text(f'#!/bin/sh\necho "$@" >> {calls}\n{inactive_check}exit 0\n')
    fake.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{fake.parent}:{os.environ['PATH']}",
        "ACTION_PORT": str(action_port),
        "RASA_PORT": str(port),
        "GATEWAY_PORT": str(port),
        "RASA_TOKEN": "t" * 32,
        "ACTION_SERVER_TOKEN": "a" * 32,
        "TELEGRAM_HEARTBEAT_FILE": str(heartbeat),
    }
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "health_watchdog.py"), "--max-rounds", "4", "--grace", "600"],
        env=env, capture_output=True, text=True, timeout=90,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, [line for line in calls.read_text().splitlines() if line.startswith("restart")]


def test_a_hung_service_is_restarted_and_a_healthy_one_is_not(tmp_path: Path) -> None:
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(64)  # accepts connections, never answers
    server, port = _answering_server()
    heartbeat = tmp_path / "telegram.alive"
    heartbeat.touch()  # fresh: the Telegram channel is alive
    try:
        stdout, restarts = _watch(tmp_path, hung.getsockname()[1], port, heartbeat)
    finally:
        server.shutdown()
        hung.close()
    assert restarts == ["restart yijianshi-actions.service"]
    assert "actions is hung: 3 health probes failed in a row" in stdout


def test_a_stale_telegram_heartbeat_restarts_its_unit_only_while_active(tmp_path: Path) -> None:
    server, port = _answering_server()
    heartbeat = tmp_path / "telegram.alive"
    heartbeat.touch()
    os.utime(heartbeat, (1, 1))  # last touched long ago: its event loop is stuck
    try:
        stdout, restarts = _watch(tmp_path, port, port, heartbeat)
        assert restarts == ["restart yijianshi-telegram.service"] and "telegram is hung" in stdout
        (tmp_path / "calls").unlink()
        _, restarts = _watch(tmp_path, port, port, heartbeat, inactive="yijianshi-telegram")
        assert restarts == []  # no token: the unit exited, nothing to judge
    finally:
        server.shutdown()
