"""How the gateway treats each kind of Rasa reply, at the HTTP-client layer.

A real Rasa cannot be made to answer 5xx, garbage or an empty list on demand, so these tests swap
the shared httpx client's transport for ``httpx.MockTransport`` (no server). The full stack is
covered by tests/e2e.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.config import Settings

Handler = Callable[[httpx.Request], httpx.Response]


def chat(settings: Settings, handler: Handler, sender: str = "u1", message: str = "你好") -> httpx.Response:
    with TestClient(create_app(settings, transport=httpx.MockTransport(handler))) as client:
        return client.post("/api/chat", json={"sender": sender, "message": message})


def rasa_says(payload: object, status: int = 200, health_status: int | None = 200) -> Handler:
    """Rasa webhook answers ``payload``; the action server's /health answers ``health_status`` (None: refused)."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/webhooks/rest/webhook":
            return httpx.Response(status, json=payload)
        if request.url.path == "/health":
            if health_status is None:
                raise httpx.ConnectError("Connection refused", request=request)
            return httpx.Response(health_status, json={"status": "ok"})
        return httpx.Response(404)

    return handler


def test_message_is_forwarded_to_the_rest_webhook(settings: Settings) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[{"recipient_id": "u1", "text": "您好"}])

    response = chat(settings, handler, sender="u1", message="  我要办退休  ")
    assert response.json() == [{"recipient_id": "u1", "text": "您好"}]
    assert len(seen) == 1
    assert str(seen[0].url) == f"{settings.rasa_url}/webhooks/rest/webhook"
    assert json.loads(seen[0].content) == {"sender": "u1", "message": "我要办退休", "input_channel": "rest"}


def test_rich_messages_pass_through_unchanged(settings: Settings) -> None:
    reply = [
        {
            "recipient_id": "u1",
            "text": "您要办哪一件？",
            "buttons": [{"title": "退休", "payload": '/choose{"code":"X"}'}],
        },
        {"recipient_id": "u1", "image": "https://example.org/a.png"},
        {"recipient_id": "u1", "custom": {"theme": {"code": "X", "materials": ["身份证"]}}},
        {"recipient_id": "someone-else", "text": "附加", "attachment": {"k": 1}},
    ]
    body = chat(settings, rasa_says(reply)).json()
    assert body[:3] == reply[:3]
    assert body[3] == {**reply[3], "recipient_id": "u1"}


@pytest.mark.parametrize("status", [500, 502, 503, 404])
def test_rasa_error_status_gives_the_apology(settings: Settings, status: int) -> None:
    body = chat(settings, rasa_says({"error": "x"}, status=status)).json()
    assert len(body) == 1 and body[0]["custom"] == {"error": "rasa_unavailable"}


def test_rasa_reply_that_is_not_json_gives_the_apology(settings: Settings) -> None:
    body = chat(settings, lambda r: httpx.Response(200, text="<html>oops</html>")).json()
    assert body[0]["custom"] == {"error": "rasa_unavailable"}


@pytest.mark.parametrize("payload", [{"text": "hi"}, ["hi"], None])
def test_rasa_reply_of_the_wrong_shape_gives_the_apology(settings: Settings, payload: object) -> None:
    body = chat(settings, rasa_says(payload)).json()
    assert body[0]["custom"] == {"error": "rasa_unavailable"}


def test_empty_reply_with_action_server_down_gives_its_apology(settings: Settings) -> None:
    response = chat(settings, rasa_says([], health_status=None))
    assert response.status_code == 200
    body = response.json()
    assert len(body) == 1
    assert body[0]["recipient_id"] == "u1"
    assert body[0]["custom"] == {"error": "action_server_unavailable"}
    assert "抱歉" in body[0]["text"]


def test_empty_reply_with_action_server_unhealthy_gives_its_apology(settings: Settings) -> None:
    body = chat(settings, rasa_says([], health_status=500)).json()
    assert body[0]["custom"] == {"error": "action_server_unavailable"}


def test_empty_reply_with_redis_down_gives_an_apology(
    settings: Settings, closed_port: Callable[[], int]
) -> None:
    no_redis = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{closed_port()}/0"})
    body = chat(no_redis, rasa_says([])).json()
    assert body[0]["custom"] == {"error": "redis_unavailable"}


def test_empty_reply_with_everything_healthy_passes_through(settings: Settings) -> None:
    response = chat(settings, rasa_says([]))
    assert response.status_code == 200
    assert response.json() == []


def test_rasa_health_uses_status_with_token_when_set(settings: Settings) -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        if request.url.path == "/status":
            if request.url.params.get("token") != "tok":
                return httpx.Response(401)
            return httpx.Response(200, json={"model_file": "current.tar.gz", "model_id": "abc"})
        return httpx.Response(200, json={"status": "ok"})

    app = create_app(
        settings.model_copy(update={"rasa_token": "tok"}), transport=httpx.MockTransport(handler)
    )
    with TestClient(app) as client:
        body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["services"]["rasa"] == {"ok": True, "detail": "model current.tar.gz"}
    assert any(u.path == "/status" and u.params.get("token") == "tok" for u in seen)

    app = create_app(
        settings.model_copy(update={"rasa_token": "not-the-token-7f3a"}),
        transport=httpx.MockTransport(handler),
    )
    with TestClient(app) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["services"]["rasa"]["ok"] is False
    assert "401" in response.json()["services"]["rasa"]["detail"]
    assert "not-the-token-7f3a" not in response.text  # the token never shows up in the report


def test_a_message_rasa_repeats_is_shown_once(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    again = {"recipient_id": "u1", "text": "好的。您换个说法再讲讲看。"}
    reply = [{"recipient_id": "u1", "text": "您要办的是：退休"}, again, again, again, {"recipient_id": "u1", "text": "好的"}, again]
    response = chat(settings, rasa_says(reply))
    assert response.json() == [reply[0], again, reply[4], again]  # only repeats in a row are dropped
    assert "rasa repeated a message 3 times" in caplog.text


FALLBACK = {"recipient_id": "u1", "custom": {"fallback": "core", "text": "好的。您换个说法再讲讲看。"}}


def test_the_core_fallback_is_shown_as_its_text_when_the_action_server_is_up(settings: Settings) -> None:
    response = chat(settings, rasa_says([FALLBACK, FALLBACK]))
    assert response.json() == [{"recipient_id": "u1", "text": "好的。您换个说法再讲讲看。"}]


def test_the_core_fallback_with_the_action_server_down_is_an_apology(settings: Settings) -> None:
    response = chat(settings, rasa_says([{"recipient_id": "u1", "text": "您好"}, FALLBACK], health_status=None))
    [message] = response.json()
    assert message["custom"] == {"error": "action_server_unavailable"} and "抱歉" in message["text"]


@pytest.mark.parametrize(
    ("health_status", "error"),
    [(200, "rasa_unavailable"), (500, "action_server_unavailable"), (None, "action_server_unavailable")],
)
def test_a_rasa_timeout_names_the_action_server_when_it_is_down(
    settings: Settings, health_status: int | None, error: str
) -> None:
    """Rasa waits for a hung action server until the chat time-out: the apology names the true cause."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/webhooks/rest/webhook":
            raise httpx.ReadTimeout("timed out", request=request)
        return rasa_says([], health_status=health_status)(request)

    body = chat(settings, handler).json()
    assert len(body) == 1 and body[0]["custom"] == {"error": error}, body
