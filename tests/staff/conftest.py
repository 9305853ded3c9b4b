"""The staff API tests run against a real gateway process (``python -m bot``) on a free port, with the
session's real redis-server (``redis_url``); Rasa and the action server are closed ports (the staff
side does not need them). Each test starts from an empty database (``redis_client`` flushes it)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import redis
import redis.asyncio

from records.client import async_client

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Module scope: the gateway follows the handoff events on the session's Redis (it takes the hand-back
# of every ticket closed with return_to_bot), so it must not outlive the staff tests.
@pytest.fixture(scope="module")
def gateway_url(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    log = tmp_path_factory.mktemp("staff-gateway") / "gateway.log"
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "GATEWAY_HOST": "127.0.0.1",
        "GATEWAY_PORT": str(port),
        "KNOWLEDGE_PRELOAD": "0",
        "RASA_URL": f"http://127.0.0.1:{_free_port()}",
        "ACTION_SERVER_URL": f"http://127.0.0.1:{_free_port()}/webhook",
        "GATEWAY_LOG_LEVEL": "warning",
        "HF_HUB_OFFLINE": "1",
    }
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "bot"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{url}/staff", timeout=2.0, trust_env=False)
            break
        except httpx.HTTPError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"the gateway did not start: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.1)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture()
async def rec(redis_url: str, redis_client: redis.Redis) -> AsyncIterator[redis.asyncio.Redis]:
    """A records client on the (flushed) test database."""
    client = async_client(redis_url, max_connections=16)
    yield client
    await client.aclose()
