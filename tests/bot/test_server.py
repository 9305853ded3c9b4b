"""The HTTP server (bot/server.py) and the app's surface, through a real uvicorn on a free port:
slow clients are cut off, the connection limit holds, a client gone mid-upload is one log line,
no docs pages, no redirect to a forged Host."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from bot_helpers import CJK, assert_error

from bot.app import create_app
from bot.config import Settings
from bot.server import uvicorn_config


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerThread:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.server = uvicorn.Server(uvicorn_config(create_app(settings), settings))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.port}"

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.settings.port), timeout=10)
        return sock


@pytest.fixture
def server(settings: Settings) -> Iterator[ServerThread]:
    quick = settings.model_copy(
        update={"port": free_port(), "header_timeout_seconds": 1.0, "body_timeout_seconds": 1.0,
                "max_connections": 5}
    )
    with ServerThread(quick) as running:
        yield running


def read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def json_body(raw: bytes) -> dict:
    head, _, body = raw.partition(b"\r\n\r\n")
    return json.loads(body)


def test_a_connection_that_sends_nothing_is_closed_with_a_408(server: ServerThread) -> None:
    started = time.monotonic()
    with server.connect() as sock:
        raw = read_all(sock)
    assert 0.8 < time.monotonic() - started < 3
    assert raw.startswith(b"HTTP/1.1 408")
    assert CJK.search(json_body(raw)["error"]["message"])


def test_trickled_headers_are_cut_off(server: ServerThread) -> None:
    started = time.monotonic()
    with server.connect() as sock:
        try:
            for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\n":
                sock.sendall(bytes([byte]))
                time.sleep(0.1)
        except OSError:
            pass  # the server closed the connection while we were still trickling
        raw = read_all(sock)
    assert time.monotonic() - started < 4.5
    assert raw.startswith(b"HTTP/1.1 408"), raw


def test_a_trickled_body_is_cut_off_with_one_log_line(
    server: ServerThread, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    head = b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    started = time.monotonic()
    with server.connect() as sock:
        sock.sendall(head + b'{"sender"')
        raw = read_all(sock)
    assert time.monotonic() - started < 3
    assert raw.startswith(b"HTTP/1.1 408"), raw
    time.sleep(0.2)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("client disconnected" in r.getMessage() for r in caplog.records)


def test_a_client_gone_mid_upload_logs_one_line_not_a_traceback(
    server: ServerThread, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    head = b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n"
    for _ in range(5):
        with server.connect() as sock:
            sock.sendall(head + b'{"sender": "a", "message": "' + b"x" * 100)
            time.sleep(0.05)
    time.sleep(0.5)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
    gone = [r for r in caplog.records if "client disconnected" in r.getMessage()]
    assert len(gone) == 5 and all(r.levelno == logging.INFO and not r.exc_info for r in gone)


def test_connections_over_the_limit_get_a_json_503(server: ServerThread) -> None:
    idle = [server.connect() for _ in range(5)]
    try:
        time.sleep(0.1)
        with server.connect() as extra:
            raw = read_all(extra)
        assert raw.startswith(b"HTTP/1.1 503"), raw
        assert CJK.search(json_body(raw)["error"]["message"])
    finally:
        for sock in idle:
            sock.close()
    time.sleep(0.2)
    assert httpx.get(f"{server.url}/healthz", timeout=5).status_code in (200, 503)


def test_kept_alive_connections_serve_several_requests(server: ServerThread) -> None:
    with httpx.Client(base_url=server.url, timeout=5) as http:
        for _ in range(3):
            assert_error(http.get("/nope"), 404, "not_found")
            time.sleep(0.4)  # under the keep-alive and header time-outs


def test_no_docs_pages_and_no_schema_by_default(server: ServerThread) -> None:
    for path in ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"):
        assert_error(httpx.get(server.url + path), 404, "not_found")


def test_the_schema_can_be_switched_on(settings: Settings) -> None:
    from fastapi.testclient import TestClient

    with TestClient(create_app(settings.model_copy(update={"openapi": True}))) as client:
        assert client.get("/openapi.json").json()["paths"]["/api/chat"]
        assert_error(client.get("/docs"), 404, "not_found")


@pytest.mark.parametrize("path", ["/api/things/43PCN0009/", "/healthz/", "/api/chat/"])
def test_a_trailing_slash_is_never_redirected_to_the_request_host(server: ServerThread, path: str) -> None:
    response = httpx.get(server.url + path, headers={"Host": "evil.example"}, follow_redirects=False)
    assert "location" not in response.headers
    assert_error(response, 404, "not_found")


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [(b"GARBAGE\r\n\r\n", 400, "bad_request"),
     (b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 400, "bad_request"),
     (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n", 431, "headers_too_large"),
     (b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Many: a\r\n" * 10_000 + b"\r\n", 431, "headers_too_large")],
)
def test_unparseable_or_oversized_requests_get_our_json_error(
    server: ServerThread, raw: bytes, status: int, code: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with server.connect() as sock:
        try:
            sock.sendall(raw)
            answer = read_all(sock)
        except ConnectionResetError:
            # Closing with unread request bytes makes the kernel reset the connection, which can
            # overtake the answer: then the log must show why.
            answer = b""
    if status == 431 and not answer:
        time.sleep(0.2)
        assert any("Invalid HTTP request" in r.getMessage() for r in caplog.records)
        return
    assert answer.startswith(f"HTTP/1.1 {status}".encode()), answer[:100]
    assert json_body(answer)["error"]["code"] == code
