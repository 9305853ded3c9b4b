"""GET /healthz against a real Redis and Rasa / action server ports with nothing (useful) behind them."""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi.testclient import TestClient

from bot.app import create_app
from bot.config import Settings
from bot.health import build_report
from bot.schemas import ServiceHealth


def test_real_redis_up_rasa_and_actions_down_is_503(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    services = body["services"]
    assert set(services) == {"redis", "rasa", "action_server"}
    assert services["redis"] == {"ok": True, "detail": "PONG"}
    for name in ("rasa", "action_server"):
        assert services[name]["ok"] is False
        assert services[name]["detail"].startswith("unreachable")
        assert len(services[name]["detail"]) <= 140


def test_redis_down_is_reported(settings: Settings, closed_port: Callable[[], int]) -> None:
    no_redis = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{closed_port()}/0"})
    with TestClient(create_app(no_redis)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    redis = response.json()["services"]["redis"]
    assert redis["ok"] is False and redis["detail"]


def test_checks_time_out_and_run_concurrently(settings: Settings, black_hole: Callable[[], int]) -> None:
    """Rasa and the action server hang; each check gives up after 1 s, and together they take ~1 s."""
    hung = settings.model_copy(
        update={
            "rasa_url": f"http://127.0.0.1:{black_hole()}",
            "action_server_url": f"http://127.0.0.1:{black_hole()}/webhook",
            "health_timeout_seconds": 1.0,
        }
    )
    with TestClient(create_app(hung)) as client:
        started = time.monotonic()
        response = client.get("/healthz")
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    services = response.json()["services"]
    assert services["redis"]["ok"] is True
    assert services["rasa"] == {"ok": False, "detail": "timeout after 1s"}
    assert services["action_server"] == {"ok": False, "detail": "timeout after 1s"}
    assert 0.9 < elapsed < 1.9, elapsed


def test_report_is_ok_only_when_every_service_is() -> None:
    up = ServiceHealth(ok=True, detail="fine")
    down = ServiceHealth(ok=False, detail="HTTP 500")
    assert build_report({"redis": up, "rasa": up, "action_server": up}).status == "ok"
    assert build_report({"redis": up, "rasa": down, "action_server": up}).status == "degraded"
    assert build_report({"redis": down, "rasa": down, "action_server": down}).status == "degraded"
