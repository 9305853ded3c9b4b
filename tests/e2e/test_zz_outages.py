"""What people see when a part of the stack is down (runs last: it stops and restarts services)."""

from __future__ import annotations

import pytest
from e2e_helpers import say

pytestmark = pytest.mark.e2e


def test_action_server_down_is_reported_and_chat_apologises(stack, gateway):
    stack.stop_service("actions")
    try:
        health = gateway.get("/healthz")
        assert health.status_code == 503
        services = health.json()["services"]
        assert services["action_server"]["ok"] is False
        assert services["rasa"]["ok"] is True

        messages, text = say(gateway, "e2e-outage-1", "我要办退休")
        assert "抱歉" in text, messages
        assert messages[0]["custom"]["error"] == "action_server_unavailable"
    finally:
        stack.restart_service("actions")
    assert gateway.get("/healthz").status_code == 200


def test_redis_down_is_reported_and_chat_apologises(stack, gateway):
    stack.stop_service("redis")
    try:
        health = gateway.get("/healthz")
        assert health.status_code == 503
        assert health.json()["services"]["redis"]["ok"] is False

        messages, text = say(gateway, "e2e-outage-2", "我要办退休")
        assert "抱歉" in text, messages
        assert "error" in messages[0].get("custom", {})
    finally:
        stack.restart_service("redis")
    assert gateway.get("/healthz").status_code == 200
