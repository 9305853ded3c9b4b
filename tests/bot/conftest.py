"""Fixtures for the gateway tests: closed ports, black-hole ports, settings and a test client.

The real redis-server comes from ``redis_url`` in ``tests/conftest.py`` (session-wide, free port, tmp dir).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.config import Settings


def free_port() -> int:
    """A port nothing listens on (bound and released at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def closed_port() -> Callable[[], int]:
    """Factory of ports with nothing listening: connections are refused, like a stopped service."""
    return free_port


@pytest.fixture
def black_hole() -> Iterator[Callable[[], int]]:
    """Factory of ports that accept TCP connections (kernel backlog) but never answer: a hung service."""
    sockets: list[socket.socket] = []

    def make() -> int:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        sockets.append(sock)
        return int(sock.getsockname()[1])

    yield make
    for sock in sockets:
        sock.close()


@pytest.fixture
def settings(redis_url: str, closed_port: Callable[[], int]) -> Settings:
    """Real Redis; Rasa and the action server on closed ports (down)."""
    return Settings(
        redis_url=redis_url,
        rasa_url=f"http://127.0.0.1:{closed_port()}",
        action_server_url=f"http://127.0.0.1:{closed_port()}/webhook",
        chat_timeout_seconds=3,
        health_timeout_seconds=1,
        knowledge_preload=False,
        handoff_live=False,  # the event follower is tested where asked for (test_handback_inbox.py)
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client
