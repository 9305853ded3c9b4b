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


def test_a_hung_service_is_restarted_and_a_healthy_one_is_not(tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    fake = tmp_path / "bin" / "systemctl"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "$@" >> {calls}\nexit 0\n')
    fake.chmod(0o755)
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(64)  # accepts connections, never answers
    server, port = _answering_server()
    try:
        env = {
            **os.environ,
            "PATH": f"{fake.parent}:{os.environ['PATH']}",
            "ACTION_PORT": str(hung.getsockname()[1]),
            "RASA_PORT": str(port),
            "GATEWAY_PORT": str(port),
            "RASA_TOKEN": "t" * 32,
            "ACTION_SERVER_TOKEN": "a" * 32,
        }
        done = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "health_watchdog.py"), "--max-rounds", "4", "--grace", "600"],
            env=env, capture_output=True, text=True, timeout=90,
        )
    finally:
        server.shutdown()
        hung.close()
    assert done.returncode == 0, done.stderr
    restarts = [line for line in calls.read_text().splitlines() if line.startswith("restart")]
    assert restarts == ["restart yijianshi-actions.service"], calls.read_text()
    assert "actions is hung: 3 health probes failed in a row" in done.stdout
