"""Shared fixtures: a real Redis on a free port, and the whole stack for end-to-end tests."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from hours_env import TEST_STACK_ENV

ROOT = Path(__file__).resolve().parent.parent


def _load_stack_module():
    spec = importlib.util.spec_from_file_location("stack", ROOT / "scripts" / "stack.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["stack"] = module
    spec.loader.exec_module(module)
    return module


stack_module = _load_stack_module()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private redis-server on a free port, for the whole test session."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed: run 'make setup' (apt-get install redis-server).")
    port = stack_module.free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--dir", str(workdir),
         "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(100):
        try:
            if client.ping():
                break
        except redis.ConnectionError:
            time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("redis-server did not start")
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture()
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    """A client on a clean database for one test."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory):
    """The real stack (Redis, actions, Rasa, gateway) on free ports, started once per session."""
    model = ROOT / "models" / "current.tar.gz"
    if not model.exists():
        pytest.fail("No trained model at models/current.tar.gz: run 'make setup' first.")
    config = stack_module.StackConfig.on_free_ports(tmp_path_factory.mktemp("stack"))
    # No warm standby Rasa here (~1 GB and a core while it loads): only the fault test, on its own
    # stack, measures recovery from a Rasa crash.
    config.rasa_standby = False
    config.extra_env.update(TEST_STACK_ENV)
    s = stack_module.Stack(config)
    try:
        s.start()
    except stack_module.StackError as exc:
        pytest.fail(f"could not start the stack: {exc}")
    yield s
    s.stop()
