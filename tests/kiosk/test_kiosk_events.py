"""GET /api/chat/{sender}/events (server-sent events) on the real stack's gateway: inbox messages
arrive live, a reconnect with Last-Event-ID resumes after the last one, bad senders are refused."""

from __future__ import annotations

import json
import queue
import threading
import time
from typing import Any

import httpx
import pytest
import redis

from records.inbox import INBOX_MAXLEN, inbox_key

pytestmark = pytest.mark.e2e


def add_inbox(app_redis: redis.Redis, conversation: str, sender: str, text: str) -> str:
    return app_redis.xadd(inbox_key(conversation), {"from": sender, "text": text, "ticket": "t-1", "ts": repr(time.time())},
                          maxlen=INBOX_MAXLEN, approximate=True)


def listen(url: str, headers: dict[str, str], out: queue.Queue, stop: threading.Event) -> None:
    try:
        _listen(url, headers, out, stop)
    except httpx.HTTPError:
        return  # the stack stopped at the end of the session


def _listen(url: str, headers: dict[str, str], out: queue.Queue, stop: threading.Event) -> None:
    with httpx.Client(timeout=httpx.Timeout(30, read=30), trust_env=False) as client:
        with client.stream("GET", url, headers=headers) as resp:
            out.put(("status", resp.status_code, resp.headers.get("content-type")))
            event: dict[str, Any] = {}
            for line in resp.iter_lines():
                if stop.is_set():
                    return
                if line.startswith("id: "):
                    event["id"] = line[4:]
                elif line.startswith("event: "):
                    event["event"] = line[7:]
                elif line.startswith("data: "):
                    event["data"] = json.loads(line[6:])
                elif line == "" and event:
                    out.put(("event", event))
                    event = {}


def next_event(out: queue.Queue, seconds: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        kind, *rest = out.get(timeout=max(0.1, deadline - time.monotonic()))
        if kind == "event":
            return rest[0]
    raise AssertionError("no event")


def test_inbox_messages_arrive_live_and_a_reconnect_resumes(stack, stack_gateway, app_redis):
    sender = stack_gateway.post("/api/kiosk/session").json()["sender"]
    url = f"{stack.config.gateway_url}/api/chat/{sender}/events"
    first = add_inbox(app_redis, sender, "system", "您前面还有 2 位，大约等 6 分钟")
    out: queue.Queue = queue.Queue()
    stop = threading.Event()
    threading.Thread(target=listen, args=(url, {}, out, stop), daemon=True).start()
    assert out.get(timeout=10) == ("status", 200, "text/event-stream; charset=utf-8")
    kept = next_event(out)  # without Last-Event-ID: every kept message first
    assert kept == {"id": first, "event": "inbox", "data": {"id": first, "from": "system",
                                                           "text": "您前面还有 2 位，大约等 6 分钟", "ts": kept["data"]["ts"]}}
    time.sleep(0.5)
    started = time.monotonic()
    second = add_inbox(app_redis, sender, "staff", "您好，我是小张")
    live = next_event(out)
    assert (live["id"], live["data"]["from"], live["data"]["text"]) == (second, "staff", "您好，我是小张")
    assert time.monotonic() - started < 3.5  # pushed, not polled
    stop.set()

    third = add_inbox(app_redis, sender, "staff", "请带身份证")
    again: queue.Queue = queue.Queue()
    threading.Thread(target=listen, args=(url, {"Last-Event-ID": second}, again, threading.Event()), daemon=True).start()
    resumed = next_event(again)
    assert (resumed["id"], resumed["data"]["text"]) == (third, "请带身份证")


@pytest.mark.parametrize("path, code", [("/api/chat/a%01b/events", "invalid_value"),
                                        ("/api/chat/x/events?after=nope", "invalid_value")])
def test_bad_requests_get_a_chinese_json_error(stack_gateway, path, code):
    resp = stack_gateway.get(path)
    assert resp.status_code == 422 and resp.json()["error"]["code"] == code
