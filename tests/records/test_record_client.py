"""The one client factory: URL from the argument, REDIS_URL or the default; timeouts and retries."""

from __future__ import annotations

from records import client as factory


def test_url_precedence(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert factory.redis_url() == "redis://127.0.0.1:6390/0"
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:7000/2")
    assert factory.redis_url() == "redis://127.0.0.1:7000/2"
    assert factory.redis_url("redis://127.0.0.1:7001/3") == "redis://127.0.0.1:7001/3"


async def test_clients_talk_to_the_same_server(redis_url, redis_client, monkeypatch):
    monkeypatch.setenv("REDIS_URL", redis_url)
    sync = factory.sync_client()
    sync.set("yjs:test:k", "值")
    kwargs = sync.connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] == factory.SOCKET_TIMEOUT and kwargs["socket_connect_timeout"] == factory.CONNECT_TIMEOUT
    assert kwargs["retry"].get_retries() == factory.RETRIES
    aclient = factory.async_client()
    try:
        assert await aclient.get("yjs:test:k") == "值"
        assert aclient.connection_pool.max_connections == factory.ASYNC_MAX_CONNECTIONS
    finally:
        await aclient.aclose()
        sync.close()
