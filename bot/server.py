"""The HTTP server: uvicorn, with read time-outs and a connection limit it does not have by itself.

uvicorn 0.54's only read time-out is ``timeout_keep_alive``, armed *between* requests and cancelled by
the first byte of the next one; a fresh connection that sends nothing, or a client trickling its
headers or body a byte at a time, is kept open for ever. Its ``limit_concurrency`` answers a plain-text
503 once a request's headers are in, so idle connections still pile up. So the gateway serves with
:class:`GuardedProtocol`, uvicorn's httptools protocol plus:

- a **header deadline**: ``GATEWAY_HEADER_TIMEOUT`` seconds from connecting (or from the first byte of a
  later request on a kept-alive connection) to the end of the request's headers;
- a **body deadline**: ``GATEWAY_BODY_TIMEOUT`` seconds from the end of the headers to the end of
  the body;
- a **connection limit**: over ``GATEWAY_MAX_CONNECTIONS`` open connections, a new one gets a JSON
  503 and is closed at once;
- a **header size cap** (64 KiB, ``MAX_HEADER_BYTES``): httptools itself accepts headers of any size;
  over the cap a JSON 431 and the connection is closed;
- JSON 400 (not uvicorn's plain text) for a request that is not HTTP.

A missed deadline gets a JSON 408 (when no response has started) and the connection is closed; the
app, if it was reading the body, sees the client gone (one INFO line, see ``bot.app``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import resource
from asyncio import TimerHandle
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from bot import messages
from bot.config import Settings
from bot.schemas import ApiError

log = logging.getLogger(__name__)

MAX_HEADER_BYTES = 64 * 1024  # request line + headers


def raw_error_response(status: int, reason: str, code: str, text: str) -> bytes:
    """A whole HTTP/1.1 error response with our JSON body, for the protocol layer (no app involved)."""
    body = json.dumps(ApiError(status, code, text).body(), ensure_ascii=False).encode("utf-8")
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with header / body deadlines and a connection limit."""

    header_timeout: float = 10.0
    body_timeout: float = 15.0
    max_connections: int = 1000

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: TimerHandle | None = None
        self._header_bytes = 0  # request line + headers of the request being read
        self._headers_too_large = False

    # --- deadlines ---------------------------------------------------------------------------------

    def _arm(self, seconds: float, what: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expired, what)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self, what: str) -> None:
        self._deadline = None
        if self.transport is None or self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is None or cycle.response_complete or not cycle.response_started:
            self.transport.write(
                raw_error_response(408, "Request Timeout", "request_timeout", messages.REQUEST_TIMEOUT)
            )
        client = f"{self.client[0]}:{self.client[1]}" if self.client else "?"
        log.info("closed a slow connection from %s: %s not received in time", client, what)
        self.transport.close()

    # --- uvicorn / httptools hooks -----------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            log.warning("connection limit (%d) reached: a new connection refused", self.max_connections)
            transport.write(raw_error_response(503, "Service Unavailable", "server_busy", messages.SERVER_BUSY))
            transport.close()
            return
        self._arm(self.header_timeout, "request headers")

    def send_400_response(self, msg: str) -> None:
        """Unparseable HTTP (uvicorn logged one WARNING line): our JSON error instead of uvicorn's plain
        text; 431 when it was the header size cap."""
        self._disarm()
        if self._headers_too_large:
            response = raw_error_response(
                431, "Request Header Fields Too Large", "headers_too_large", messages.HEADERS_TOO_LARGE
            )
        else:
            response = raw_error_response(400, "Bad Request", "bad_request", messages.BAD_HTTP_REQUEST)
        self.transport.write(response)
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _count_header_bytes(self, count: int) -> None:
        self._header_bytes += count
        if self._header_bytes > MAX_HEADER_BYTES:
            self._headers_too_large = True
            # httptools turns this into HttpParserCallbackError; uvicorn then calls send_400_response.
            raise ValueError("request headers too large")

    def on_url(self, url: bytes) -> None:
        self._count_header_bytes(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_header_bytes(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_message_begin(self) -> None:
        self._header_bytes = 0
        super().on_message_begin()
        if self._deadline is None:  # a later request on a kept-alive connection
            self._arm(self.header_timeout, "request headers")

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._arm(self.body_timeout, "request body")

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()


def guarded_protocol(settings: Settings) -> type[GuardedProtocol]:
    """:class:`GuardedProtocol` with the limits from the settings."""
    return type(
        "GatewayProtocol",
        (GuardedProtocol,),
        {
            "header_timeout": settings.header_timeout_seconds,
            "body_timeout": settings.body_timeout_seconds,
            "max_connections": settings.max_connections,
        },
    )


def raise_open_files_limit(wanted: int) -> None:
    """Allow ``wanted`` open files (connections + a margin) when the hard limit permits it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def uvicorn_config(app: Any, settings: Settings) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        http=guarded_protocol(settings),
        ws="none",  # no WebSocket routes: an upgrade request is plain HTTP (404)
        timeout_keep_alive=settings.keep_alive_seconds,
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxies,
        server_header=False,
    )


def serve(app: Any, settings: Settings) -> None:
    raise_open_files_limit(settings.max_connections + 256)
    uvicorn.Server(uvicorn_config(app, settings)).run()
