"""Production service definitions (deploy/) and the launchers that keep secrets off command lines."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

ROOT = Path(__file__).resolve().parents[2]
stack = sys.modules["stack"]  # loaded by tests/conftest.py


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_systemd_units_verify(tmp_path: Path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd; 'make setup-test' does)")
    subprocess.run([str(ROOT / "deploy" / "install.sh"), "--dest", str(tmp_path)], check=True)
    units = sorted(str(p) for p in tmp_path.iterdir())
    names = ("redis", "actions", "rasa", "gateway", "watchdog")
    assert {Path(u).name for u in units} >= {f"yijianshi-{n}.service" for n in names}
    done = subprocess.run(["systemd-analyze", "verify", *units], capture_output=True, text=True)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


def test_units_restart_on_failure_with_limits_and_no_secret_on_the_command_line():
    for unit in (ROOT / "deploy" / "systemd").glob("*.service"):
        text = unit.read_text()
        # The watchdog runs as root: it restarts the other units.
        user = () if unit.name == "yijianshi-watchdog.service" else ("User=yijianshi",)
        for key in ("Restart=on-failure", "RestartSec=", "MemoryMax=", "TasksMax=", "LimitNOFILE=", *user):
            assert key in text, f"{unit.name} lacks {key}"
        exec_start = next(line for line in text.splitlines() if line.startswith("ExecStart="))
        assert "token" not in exec_start.lower(), exec_start
        if unit.name != "yijianshi-redis.service":
            assert "EnvironmentFile=/etc/yijianshi/env" in text


def test_managed_redis_settings_are_loaded(tmp_path: Path):
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed: run 'make setup'.")
    port = stack.free_port()
    conf = tmp_path / "redis.conf"
    conf.write_text(f'include "{ROOT / "deploy" / "redis.conf"}"\nport {port}\ndir "{tmp_path}"\n')
    proc = subprocess.Popen(["redis-server", str(conf)], stdout=subprocess.DEVNULL)
    try:
        client = redis.Redis(port=port, decode_responses=True)
        deadline = time.monotonic() + 10
        while stack.redis_ok("127.0.0.1", port) is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        assert client.config_get("appendfsync") == {"appendfsync": "always"}
        assert client.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
        assert "127.0.0.1" in client.config_get("bind")["bind"]
        client.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_action_server_secret_check():
    actions_serve = _load("actions_serve")
    secret = "s3cret-s3cret-s3cret"
    assert actions_serve.authorised(None, secret) == 401
    assert actions_serve.authorised("", secret) == 401
    assert actions_serve.authorised(f"Basic {secret}", secret) == 401
    assert actions_serve.authorised("Bearer wrong", secret) == 403
    assert actions_serve.authorised(f"Bearer {secret}", secret) is None
    with pytest.raises(SystemExit, match="ACTION_SERVER_TOKEN is missing"):
        actions_serve.secret_from_env({"ACTION_SERVER_TOKEN": "short"})


def test_rasa_launcher_puts_the_token_only_in_its_own_argv():
    rasa_serve = _load("rasa_serve")
    assert rasa_serve.rasa_argv("t" * 32, ["-p", "5005"]) == [
        "rasa", "run", "--enable-api", "--auth-token", "t" * 32, "-p", "5005"]
    with pytest.raises(SystemExit, match="set RASA_TOKEN instead"):
        rasa_serve.rasa_argv("t" * 32, ["--auth-token", "x"])
