"""scripts/stack.py's supervision on small stand-in processes: crash, orphan, hang, hold, stale port.

The real services are exercised the same way by tests/e2e/test_zzz_faults.py; these run in a few
seconds and cover what the fault test cannot provoke on demand (a hung process, a stranger's port).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

stack = sys.modules["stack"]  # loaded by tests/conftest.py

# An HTTP server on PORT whose /health answers, forks a child that sleeps in the same process
# group (like a sanic worker), and stops answering (hangs) once the file hang-<pid> exists.
SERVER = r"""
import http.server, os, subprocess, sys, time
port, flags = int(sys.argv[1]), sys.argv[2]
subprocess.Popen(["sleep", "600"])
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if os.path.exists(os.path.join(flags, f"hang-{os.getpid()}")):
            time.sleep(600)
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
"""


def wait_for(predicate, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def service(tmp_path: Path):
    port = stack.free_port()
    config = stack.StackConfig(log_dir=tmp_path / "log", run_dir=tmp_path / "run", start_timeout=10,
                               backoff_first=0.2, probe_interval=0.2, probe_timeout=0.5, hung_after=3,
                               log_max_bytes=4096, log_files=2)
    events: list[str] = []
    svc = stack.Service("demo", ["/usr/bin/python3", "-c", SERVER, str(port), str(tmp_path)], dict(os.environ),
                        config, lambda: stack.http_ok(f"http://127.0.0.1:{port}/health", 0.5), events.append)
    svc.start()
    svc.wait_healthy(10)
    svc.watch()
    svc.events = events
    svc.flags = tmp_path
    yield svc
    svc.unwatch()
    svc.stop()


def test_a_killed_service_is_restarted_and_its_orphans_killed(service):
    old = service.proc.pid
    members = stack.group_pids(old)
    assert len(members) == 2  # the server and its sleeping child
    os.kill(old, signal.SIGKILL)
    assert wait_for(lambda: service.proc.pid != old and service.probe() is None)
    assert stack.group_pids(old) == [], "the child of the killed process survived"
    assert service.restarts == 1
    assert any("demo exited (code -9); killed 1 leftover" in e for e in service.events), service.events


def test_a_hung_service_is_killed_and_restarted(service):
    old = service.proc.pid
    (service.flags / f"hang-{old}").touch()
    assert wait_for(lambda: service.proc.pid != old and service.probe() is None)
    assert any("demo is hung: 3 health probes failed" in e for e in service.events), service.events
    assert stack.group_pids(old) == []


def test_back_off_doubles_between_crashes(service):
    for _ in range(3):
        old = service.proc.pid
        os.kill(old, signal.SIGKILL)
        assert wait_for(lambda old=old: service.proc.pid != old and service.probe() is None)
    delays = [e.split("restarting in ")[1] for e in service.events if "restarting in" in e]
    assert delays == ["0.2s", "0.4s", "0.8s"], service.events


def test_a_deliberately_stopped_service_stays_down(service):
    service.held = True
    service.stop()
    time.sleep(1.5)
    assert not service.alive() and service.restarts == 0


def test_the_log_is_rotated_by_size(service):
    for i in range(200):
        stack.write_line(service.log, f"line {i} " + "x" * 100)
    files = sorted(p.name for p in service.log_path.parent.glob("demo.log*"))
    assert files == ["demo.log", "demo.log.1"]
    assert all(p.stat().st_size <= 4096 + 200 for p in service.log_path.parent.glob("demo.log*"))


def _listener(cwd: str, port: int) -> subprocess.Popen[bytes]:
    code = f"import socket,time; s=socket.socket(); s.bind(('127.0.0.1',{port})); s.listen(); time.sleep(600)"
    proc = subprocess.Popen(["/usr/bin/python3", "-c", code], cwd=cwd, start_new_session=True)
    assert wait_for(lambda: stack.port_in_use("127.0.0.1", port), 5)
    return proc


def test_a_stale_process_of_ours_on_a_port_is_killed(tmp_path: Path):
    port = stack.free_port()
    proc = _listener(str(stack.ROOT), port)
    s = stack.Stack(stack.StackConfig(log_dir=tmp_path, run_dir=tmp_path))
    s._clear_port(port, "gateway", "GATEWAY_PORT")
    assert proc.wait(timeout=5) == -signal.SIGKILL
    assert not stack.port_in_use("127.0.0.1", port)


def test_a_strangers_process_on_a_port_stops_the_start_with_advice(tmp_path: Path):
    port = stack.free_port()
    proc = _listener("/", port)
    try:
        s = stack.Stack(stack.StackConfig(log_dir=tmp_path, run_dir=tmp_path))
        with pytest.raises(stack.StackError, match=f"Port {port} .gateway. is already in use by pid {proc.pid}.*"
                                                   "set GATEWAY_PORT to another port"):
            s._clear_port(port, "gateway", "GATEWAY_PORT")
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait()
