"""POST /api/chat: input validation and the apology when Rasa cannot be reached.

Rasa here is a closed port (refused) or a black hole (accepts, never answers); no fake Rasa.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import pytest
from bot_helpers import CJK, assert_error
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot import messages
from bot.app import create_app
from bot.config import Settings

JSON = {"content-type": "application/json"}


def post_raw(client: TestClient, body: bytes, headers: dict[str, str] | None = None):
    return client.post("/api/chat", content=body, headers=JSON if headers is None else headers)


# --- validation -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body", [b"{not json", b'{"sender": "a", "message": "hi"', b"\xff\xfe\x00garbage", b"'single'"]
)
def test_invalid_json_is_400(client: TestClient, body: bytes) -> None:
    assert_error(post_raw(client, body), 400, "invalid_json")


def test_empty_body_is_400(client: TestClient) -> None:
    assert_error(post_raw(client, b"  "), 400, "invalid_json")


def test_invalid_utf8_inside_a_string_is_400(client: TestClient) -> None:
    assert_error(post_raw(client, b'{"sender": "a", "message": "\xc3\x28"}'), 400, "invalid_json")


def test_absurdly_nested_json_is_400_not_500(client: TestClient) -> None:
    assert_error(post_raw(client, b"[" * 60_000), 400, "invalid_json")


@pytest.mark.parametrize("body", ["null", "[]", '["a", "b"]', '"hello"', "42"])
def test_body_that_is_not_an_object_is_422(client: TestClient, body: str) -> None:
    assert_error(post_raw(client, body.encode()), 422, "invalid_body")


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"message": "你好"}, "sender"), ({"sender": "a"}, "message"), ({}, "sender")],
)
def test_missing_field_is_422(client: TestClient, payload: dict, field: str) -> None:
    assert_error(client.post("/api/chat", json=payload), 422, "missing_field", field)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"sender": 5, "message": "你好"}, "sender"),
        ({"sender": {"id": "a"}, "message": "你好"}, "sender"),
        ({"sender": "a", "message": 123}, "message"),
        ({"sender": "a", "message": None}, "message"),
        ({"sender": "a", "message": ["你好"]}, "message"),
        ({"sender": "a", "message": True}, "message"),
    ],
)
def test_wrong_type_is_422(client: TestClient, payload: dict, field: str) -> None:
    assert_error(client.post("/api/chat", json=payload), 422, "wrong_type", field)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"sender": "a", "message": ""}, "message"),
        ({"sender": "a", "message": " \n\t\u3000 "}, "message"),
        ({"sender": "", "message": "你好"}, "sender"),
        ({"sender": "   ", "message": "你好"}, "sender"),
    ],
)
def test_empty_field_is_422(client: TestClient, payload: dict, field: str) -> None:
    error = assert_error(client.post("/api/chat", json=payload), 422, "empty_field", field)
    if field == "message":
        assert error["message"] == messages.empty_field("message")


def test_over_long_sender_is_422(client: TestClient, settings: Settings) -> None:
    sender = "s" * (settings.sender_max_chars + 1)
    error = assert_error(
        client.post("/api/chat", json={"sender": sender, "message": "你好"}), 422, "too_long", "sender"
    )
    assert str(settings.sender_max_chars) in error["message"]


def test_sender_with_control_characters_is_422(client: TestClient) -> None:
    assert_error(
        client.post("/api/chat", json={"sender": "a\nb", "message": "你好"}), 422, "invalid_value", "sender"
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"sender": "a", "message": "\\ud800 hi"}', "message"),
        (b'{"sender": "\\udfff", "message": "hi"}', "sender"),
    ],
)
def test_lone_surrogates_are_422_not_500(client: TestClient, body: bytes, field: str) -> None:
    assert_error(post_raw(client, body), 422, "invalid_value", field)


def test_over_long_message_is_413_with_the_limit(client: TestClient, settings: Settings) -> None:
    message = "办" * (settings.chat_max_chars + 1)  # ~12 KB: under the body cap, over the character limit
    error = assert_error(
        client.post("/api/chat", json={"sender": "a", "message": message}), 413, "message_too_long", "message"
    )
    # Not a bare refusal: the limit, what to do instead, a human and the hotline.
    assert f"最多只能看{settings.chat_max_chars}个字" in error["message"]
    assert "转人工" in error["message"] and "12345" in error["message"]


def test_100kb_message_is_413_with_the_limit(client: TestClient, settings: Settings) -> None:
    error = assert_error(
        client.post("/api/chat", json={"sender": "a", "message": "办" * 100_000}), 413, "body_too_large"
    )
    assert str(settings.chat_max_chars) in error["message"] and "转人工" in error["message"]


def test_oversized_body_is_refused_before_parsing(client: TestClient, settings: Settings) -> None:
    payload = {"sender": "a", "message": "你好", "padding": "x" * settings.max_body_bytes}
    assert_error(client.post("/api/chat", json=payload), 413, "body_too_large")


def test_oversized_chunked_body_without_content_length_is_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"sender": "a", "message": "'
        for _ in range(100):
            yield b"x" * 1024
        yield b'"}'

    response = client.post("/api/chat", content=chunks(), headers=JSON)
    assert_error(response, 413, "body_too_large")


@pytest.mark.parametrize(
    "headers",
    [
        {"content-type": "text/plain"},
        {"content-type": "application/x-www-form-urlencoded"},
        {"content-type": "multipart/form-data; boundary=x"},
        {},
    ],
)
def test_non_json_content_type_is_415(client: TestClient, headers: dict[str, str]) -> None:
    body = json.dumps({"sender": "a", "message": "你好"}).encode()
    assert_error(post_raw(client, body, headers), 415, "unsupported_media_type")


def test_wrong_method_and_unknown_path_are_json(client: TestClient) -> None:
    assert_error(client.get("/api/chat"), 405, "method_not_allowed")
    assert_error(client.get("/no/such/page"), 404, "not_found")


def test_unexpected_exceptions_become_a_json_500(settings: Settings) -> None:
    app: FastAPI = create_app(settings)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert_error(response, 500, "internal_error")
    assert "boom" not in response.text


# --- Rasa down --------------------------------------------------------------------------------------


def assert_apology(response, sender: str, error: str) -> None:
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body, list) and len(body) == 1
    reply = body[0]
    assert reply["recipient_id"] == sender
    assert reply["custom"] == {"error": error}
    assert "抱歉" in reply["text"] and "0739-12345" in reply["text"] and CJK.search(reply["text"])


@pytest.mark.parametrize(
    ("content_type", "message"),
    [("application/json", "我要办退休"), ("application/json; charset=utf-8", "办" * 500)],
)
def test_rasa_refusing_connections_gives_the_apology(
    client: TestClient, content_type: str, message: str
) -> None:
    body = json.dumps({"sender": "user-1", "message": message}).encode()
    response = post_raw(client, body, {"content-type": content_type})
    assert_apology(response, "user-1", "rasa_unavailable")


def test_rasa_hanging_times_out_into_the_apology(settings: Settings, black_hole: Callable[[], int]) -> None:
    # The action server (a closed port here) is checked after the time-out: it is the usual cause.
    hung = settings.model_copy(
        update={"rasa_url": f"http://127.0.0.1:{black_hole()}", "chat_timeout_seconds": 0.5}
    )
    with TestClient(create_app(hung)) as client:
        started = time.monotonic()
        response = client.post("/api/chat", json={"sender": "user-2", "message": "你好"})
        elapsed = time.monotonic() - started
    assert_apology(response, "user-2", "action_server_unavailable")
    assert 0.4 < elapsed < 3, elapsed
