"""A missing prerequisite stops with one clear sentence, not a traceback."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import stack as stack_module  # scripts/stack.py, loaded by tests/conftest.py

ROOT = Path(__file__).resolve().parent.parent
# A process that listens on the port given as its argument until it is killed.
LISTEN = (
    "import socket, sys, time\n"
    "s = socket.socket(); s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen()\n"
    "print('listening', flush=True)\n"
    "time.sleep(600)\n"
)


def test_port_in_use_is_named_with_what_to_do(tmp_path: Path) -> None:
    """A stranger's process (not run from this checkout) on a port: named, with what to do."""
    config = stack_module.StackConfig.on_free_ports(tmp_path)
    python = shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin") or sys.executable
    assert str(ROOT) not in python, "needs a Python outside this checkout to play the stranger"
    holder = subprocess.Popen(
        [python, "-c", LISTEN, str(config.rasa_port)], cwd="/", stdout=subprocess.PIPE, text=True,
        start_new_session=True,
    )
    try:
        assert holder.stdout and holder.stdout.readline().strip() == "listening"
        with pytest.raises(stack_module.StackError) as err:
            stack_module.Stack(config).preflight()
    finally:
        holder.kill()
        holder.wait(timeout=10)
    message = str(err.value)
    assert f"Port {config.rasa_port} (Rasa) is already in use by pid {holder.pid}" in message
    assert "RASA_PORT" in message
    assert "\n" not in message


def test_port_held_by_the_caller_itself_is_not_killed(tmp_path: Path) -> None:
    config = stack_module.StackConfig.on_free_ports(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", config.rasa_port))
        busy.listen()
        with pytest.raises(stack_module.StackError) as err:
            stack_module.Stack(config).preflight()
    assert f"Port {config.rasa_port} (Rasa) is held by this very process group" in str(err.value)
    assert "RASA_PORT" in str(err.value)


def test_missing_model_says_to_run_setup(tmp_path: Path) -> None:
    config = stack_module.StackConfig.on_free_ports(tmp_path)
    config.model = tmp_path / "no-such-model.tar.gz"
    with pytest.raises(stack_module.StackError, match="make setup"):
        stack_module.Stack(config).preflight()


def test_unreachable_external_redis_is_reported(tmp_path: Path) -> None:
    config = stack_module.StackConfig.on_free_ports(tmp_path)
    config.manage_redis = False
    with pytest.raises(stack_module.StackError, match="No Redis answers"):
        stack_module.Stack(config).preflight()


def test_setup_without_python310_says_how_to_get_it(tmp_path: Path) -> None:
    # A PATH with neither python3.10 nor pyenv on it.
    bare = tmp_path / "bin"
    bare.mkdir()
    for tool in ("bash", "cat", "sha256sum", "cut", "ls", "sort", "tail", "dirname", "id", "mkdir"):
        found = subprocess.run(["bash", "-c", f"command -v {tool}"], capture_output=True, text=True)
        if found.stdout.strip():
            (bare / tool).symlink_to(found.stdout.strip())
    result = subprocess.run(
        [str(bare / "bash"), str(ROOT / "scripts" / "setup.sh")],
        env={"PATH": str(bare), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Python 3.10 is needed for Rasa 3.6 and was not found" in result.stderr
    assert "PYTHON310" in result.stderr
    assert "Traceback" not in result.stderr
