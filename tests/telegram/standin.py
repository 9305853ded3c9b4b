"""A local stand-in for the Telegram Bot API (python-telegram-bot's ``base_url`` points at it).

A Starlette app served by uvicorn in a thread of its own: ``POST /bot<token>/<method>`` with the
parameters form-encoded (multipart for files), answered the way the Bot API answers. It serves the
updates tests queue (``getUpdates`` long-polls up to its ``timeout``, at most ``MAX_POLL``
seconds), records every call and every message sent, and can answer one call with an error on
demand (``fail_next``: e.g. 429 with ``retry_after``).
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import itertools
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

BOT_USER = {"id": 777000111, "is_bot": True, "first_name": "导办小助手", "username": "yjs_test_bot",
            "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False}
MAX_POLL = 2.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Sent:
    method: str
    chat_id: int
    text: str | None = None
    markup: dict[str, Any] | None = None
    message_id: int = 0
    filename: str | None = None
    data: bytes | None = None
    caption: str | None = None
    mime: str | None = None

    @property
    def buttons(self) -> list[tuple[str, str]]:
        rows = (self.markup or {}).get("inline_keyboard") or []
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]

    def as_message(self) -> dict[str, Any]:
        msg: dict[str, Any] = {"message_id": self.message_id, "date": int(time.time()), "from": BOT_USER,
                               "chat": {"id": self.chat_id, "type": "private", "first_name": "测试"}}
        if self.text is not None:
            msg["text"] = self.text
        if self.markup:
            msg["reply_markup"] = self.markup
        if self.filename is not None:
            msg["document"] = {"file_id": f"f{self.message_id}", "file_unique_id": f"u{self.message_id}",
                               "file_name": self.filename, "mime_type": self.mime or "application/octet-stream"}
            if self.caption:
                msg["caption"] = self.caption
        return msg


@dataclass
class State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    updates: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    failures: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)
    webhook: dict[str, Any] = field(default_factory=dict)


def _parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, Any], dict[str, tuple[str, bytes, str]]]:
    raw = b"Content-Type: " + content_type.encode() + b"\r\nMIME-Version: 1.0\r\n\r\n" + body
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    fields: dict[str, Any] = {}
    files: dict[str, tuple[str, bytes, str]] = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        payload = part.get_payload(decode=True) or b""
        if filename is not None:
            files[str(name)] = (filename, payload, part.get_content_type())
        else:
            fields[str(name)] = payload.decode("utf-8")
    return fields, files


class StandIn:
    def __init__(self) -> None:
        self.state = State()
        self.port = free_port()
        self._ids = itertools.count(1)
        self._message_ids = itertools.count(100)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    # --- test side ---------------------------------------------------------------------------------

    def start(self) -> None:
        app = Starlette(routes=[Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"])])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self._server.started, "stand-in did not start"

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        with self.state.lock:
            update = {"update_id": next(self._ids), **update}
            self.state.updates.append(update)
        return update

    def fail_next(self, method: str, status: int = 429, retry_after: int = 1, description: str = "Too Many Requests") -> None:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": f"{description}: retry after {retry_after}"}
        if status == 429:
            body["parameters"] = {"retry_after": retry_after}
        with self.state.lock:
            self.state.failures.setdefault(method, []).append((status, body))

    def sent_to(self, chat_id: int) -> list[Sent]:
        with self.state.lock:
            return [s for s in self.state.sent if s.chat_id == chat_id]

    def calls_of(self, method: str) -> list[dict[str, Any]]:
        with self.state.lock:
            return [params for name, params in self.state.calls if name == method]

    async def wait_sent(self, chat_id: int, count: int = 1, after: int = 0, timeout: float = 60.0,
                        match: Any = None) -> list[Sent]:
        """The messages sent to ``chat_id`` after the first ``after``, once ``count`` of them (or one
        that ``match``es) are there."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            new = self.sent_to(chat_id)[after:]
            if (match is None and len(new) >= count) or (match is not None and any(match(s) for s in new)):
                await asyncio.sleep(0.3)  # let the rest of the same answer arrive
                return self.sent_to(chat_id)[after:]
            await asyncio.sleep(0.05)
        raise AssertionError(f"chat {chat_id}: expected messages, got {[s.text for s in self.sent_to(chat_id)[after:]]}")

    # --- update builders ---------------------------------------------------------------------------

    @staticmethod
    def user(chat_id: int) -> dict[str, Any]:
        return {"id": chat_id, "is_bot": False, "first_name": "张", "language_code": "zh-hans"}

    def _message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        return {"message_id": next(self._message_ids), "date": int(time.time()), "from": self.user(chat_id),
                "chat": {"id": chat_id, "type": "private", "first_name": "张"}, **content}

    def text_update(self, chat_id: int, text: str) -> dict[str, Any]:
        """A text message update (not queued: for posting to a webhook)."""
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return {"update_id": next(self._ids), "message": self._message(chat_id, **content)}

    def text(self, chat_id: int, text: str) -> dict[str, Any]:
        update = self.text_update(chat_id, text)
        update.pop("update_id")
        return self.push(update)

    def media(self, chat_id: int, kind: str) -> dict[str, Any]:
        f = {"file_id": f"F{kind}", "file_unique_id": f"U{kind}"}
        content = {
            "sticker": {"sticker": {**f, "type": "regular", "width": 512, "height": 512,
                                    "is_animated": False, "is_video": False}},
            "photo": {"photo": [{**f, "width": 90, "height": 90}]},
            "voice": {"voice": {**f, "duration": 3}},
            "document": {"document": {**f, "file_name": "a.pdf"}},
            "location": {"location": {"latitude": 27.0, "longitude": 111.0}},
        }[kind]
        return self.push({"message": self._message(chat_id, **content)})

    def edited(self, chat_id: int, text: str) -> dict[str, Any]:
        return self.push({"edited_message": self._message(chat_id, text=text, edit_date=int(time.time()))})

    def press(self, sent: Sent, data: str) -> dict[str, Any]:
        query = {"id": str(next(self._ids) * 1000), "from": self.user(sent.chat_id), "chat_instance": "ci",
                 "data": data, "message": sent.as_message()}
        return self.push({"callback_query": query})

    # --- the Bot API -------------------------------------------------------------------------------

    async def _params(self, request: Request) -> tuple[dict[str, Any], dict[str, tuple[str, bytes, str]]]:
        body = await request.body()
        ctype = request.headers.get("content-type", "")
        if ctype.startswith("multipart/form-data"):
            return _parse_multipart(ctype, body)
        if ctype.startswith("application/json"):
            return (json.loads(body) if body else {}), {}
        return {k: v[0] for k, v in parse_qs(body.decode("utf-8")).items()}, {}

    async def _endpoint(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        params, files = await self._params(request)
        with self.state.lock:
            self.state.calls.append((method, params))
            queued = self.state.failures.get(method)
            failure = queued.pop(0) if queued else None
        if failure is not None:
            return JSONResponse(failure[1], status_code=failure[0])
        if method == "getUpdates":
            return self._ok(await self._get_updates(params))
        if method == "getMe":
            return self._ok(BOT_USER)
        if method in ("sendMessage", "sendDocument"):
            markup = json.loads(params["reply_markup"]) if params.get("reply_markup") else None
            sent = Sent(method, int(params["chat_id"]), text=params.get("text"), markup=markup,
                        message_id=next(self._message_ids), caption=params.get("caption"))
            if method == "sendDocument":
                ref = str(params.get("document", ""))
                part = files.get(ref.removeprefix("attach://")) or files.get("document")
                name, data, mime = part or ("?", b"", "application/octet-stream")
                sent.filename, sent.data, sent.mime = name, data, mime
            with self.state.lock:
                self.state.sent.append(sent)
            return self._ok(sent.as_message())
        if method == "editMessageReplyMarkup":
            with self.state.lock:
                for s in self.state.sent:
                    if s.message_id == int(params.get("message_id", 0)):
                        s.markup = json.loads(params["reply_markup"]) if params.get("reply_markup") else None
                        return self._ok(s.as_message())
            return self._ok(True)
        if method == "setWebhook":
            with self.state.lock:
                self.state.webhook = dict(params)
            return self._ok(True)
        if method == "deleteWebhook":
            with self.state.lock:
                self.state.webhook = {}
            return self._ok(True)
        if method == "getWebhookInfo":
            return self._ok({"url": self.state.webhook.get("url", ""), "has_custom_certificate": False,
                             "pending_update_count": 0})
        return self._ok(True)  # answerCallbackQuery, setMyCommands, …

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), MAX_POLL)
        deadline = time.monotonic() + timeout
        while True:
            with self.state.lock:
                self.state.updates = [u for u in self.state.updates if u["update_id"] >= offset]
                ready = list(self.state.updates)
            if ready or time.monotonic() >= deadline:
                return ready
            await asyncio.sleep(0.03)

    @staticmethod
    def _ok(result: Any) -> JSONResponse:
        return JSONResponse({"ok": True, "result": result})
