"""The staff side of a handoff through the real stack: a person on /api/chat asks for a human, a staff
member (records.staff_queue against the stack's Redis; the last test drives the staff HTTP API) takes
the ticket, they talk both ways (inbox and events), staff close with return_to_bot, the assistant asks
for the rating of the human service, the rating is stored as staff-handled, and the assistant goes on
with the matter. Then the same with a second gateway process: live delivery and the hand-back go
through Redis, so two processes behave as one (one rating prompt, not two)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import redis
from e2e_helpers import official_guide, say

from records import case_store, staff_queue, staff_users, tickets
from records.client import async_client
from records.events import EventKind, read_events
from records.ticket_model import HandoffTicket, TicketStatus

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
THING = "43PCN0009"
RATING_PAYLOADS = [f'/rate{{"rating":"{n}"}}' for n in (5, 4, 3, 2, 1)]
T = TypeVar("T")


@pytest.fixture
def app_redis(stack) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(stack.config.redis_url, decode_responses=True)
    yield client
    client.close()


def records_call(url: str, call: Callable[[Any], Awaitable[T]]) -> T:
    """Run one records coroutine (what the staff API does) against the stack's Redis."""

    async def run() -> T:
        client = async_client(url)
        try:
            return await call(client)
        finally:
            await client.aclose()

    return asyncio.run(run())


def inbox(gateway: httpx.Client, sender: str, after: str | None = None, wait: int = 0) -> dict[str, Any]:
    params: dict[str, Any] = {"wait": wait}
    if after:
        params["after"] = after
    resp = gateway.get(f"/api/chat/{sender}/inbox", params=params, timeout=wait + 30)
    assert resp.status_code == 200, resp.text
    return resp.json()


def wait_for(gateway: httpx.Client, sender: str, after: str | None, match: Callable[[dict], bool], seconds: float = 30):
    """Long-poll the inbox until a message matches; (that message, the last id)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        body = inbox(gateway, sender, after, wait=5)
        after = body["last_id"]
        for message in body["messages"]:
            if match(message):
                return message, after
    pytest.fail(f"no matching inbox message for {sender} within {seconds}s")


def wait_returned(app_redis: redis.Redis, ticket_id: str, seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while tickets.get_ticket_sync(app_redis, ticket_id).returned_at is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert tickets.get_ticket_sync(app_redis, ticket_id).returned_at is not None, "hand-back not acknowledged"


def ask_for_a_human(gateway: httpx.Client, app_redis: redis.Redis, sender: str) -> HandoffTicket:
    _, text = say(gateway, sender, "我堂客上个月生了个伢子，要上户口")
    assert "新生儿出生" in text, text
    _, text = say(gateway, sender, "我搞不清，帮我找个工作人员")
    assert "同意" in text, text
    _, text = say(gateway, sender, "/affirm")
    assert "工作人员会在这里直接回复您" in text, text
    ticket = tickets.ticket_for_sender_sync(app_redis, sender)
    assert ticket is not None and ticket.status == TicketStatus.waiting
    assert ticket.current_thing is not None and ticket.current_thing.code == THING
    return ticket


def test_staff_take_talk_close_and_the_assistant_comes_back_for_the_rating(gateway, stack, app_redis):
    sender = "e2e-staff-1"
    url = stack.config.redis_url
    required = [m["clmc"] for m in official_guide(THING)["materialList"] if m["clbyx"] == "1"]
    ticket = ask_for_a_human(gateway, app_redis, sender)

    # While it waits: the place in the queue and the estimated wait, in the reply and in the inbox.
    _, text = say(gateway, sender, "还要等好久咯")
    assert "分钟" in text and ("位" in text or "下一位" in text), text
    place, last = wait_for(gateway, sender, None, lambda m: m["from"] == "system" and "分钟" in m["text"])

    started = time.monotonic()
    records_call(url, lambda c: staff_queue.claim(c, ticket.id, "zhang"))
    records_call(url, lambda c: staff_queue.add_staff_message(c, ticket.id, "zhang", "您好，我是帮代办的小张，户口本带了吗？"))
    staff_said, last = wait_for(gateway, sender, last, lambda m: m["from"] == "staff")
    assert staff_said["text"] == "您好，我是帮代办的小张，户口本带了吗？"
    print(f"\nstaff message reached the inbox {time.monotonic() - started:.2f}s after the claim")

    # The person answers: into the transcript and the events stream (the console follows it), not to Rasa.
    _, text = say(gateway, sender, "户口本带了的")
    assert "工作人员正在处理" in text, text
    stored = tickets.get_ticket_sync(app_redis, ticket.id)
    assert [(t.role, t.text) for t in stored.transcript[-2:]] == [
        ("staff", "您好，我是帮代办的小张，户口本带了吗？"), ("user", "户口本带了的")
    ]
    events = records_call(url, lambda c: read_events(c, "0", count=10_000))
    assert any(e.kind == EventKind.citizen_message and e.ticket == ticket.id and e.text == "户口本带了的" for e in events)

    # Staff give it back: the assistant asks for the rating of the human service, with five buttons.
    records_call(url, lambda c: staff_queue.close(c, ticket.id, "zhang", "done", note="已指导", return_to_bot=True))
    prompt, last = wait_for(gateway, sender, last, lambda m: m["from"] == "assistant")
    assert "小助手回来了" in prompt["text"] and "打个分" in prompt["text"], prompt
    assert [b["payload"] for b in prompt["buttons"]] == RATING_PAYLOADS
    wait_returned(app_redis, ticket.id)  # acknowledged right after the inbox write

    _, text = say(gateway, sender, RATING_PAYLOADS[0])
    assert "非常满意" in text, text
    [rating] = [r for r in case_store.list_ratings(app_redis) if r.sender == sender]
    assert (rating.level, rating.served_by, rating.theme) == (5, "staff", THING)

    # The assistant goes on where it stopped: current_thing is still the matter of the ticket.
    _, text = say(gateway, sender, "要带么子材料")
    assert sum(name in text for name in required) >= 2, (required, text)
    assert "工作人员正在处理" not in text


@pytest.fixture
def second_gateway(stack) -> Iterator[httpx.Client]:
    """A second gateway process (``python -m bot``) on another port, same Redis and Rasa."""
    port = stack_free_port()
    env = {**stack.config.env(), "GATEWAY_PORT": str(port), "KNOWLEDGE_PRELOAD": "0"}
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "app" / "bin" / "python"), "-m", "bot"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if client.get("/healthz").status_code in (200, 503):
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the second gateway did not start")
            time.sleep(0.2)
        yield client
    finally:
        client.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait(timeout=10)


def stack_free_port() -> int:
    return sys.modules["stack"].free_port()


def test_two_gateway_processes_behave_as_one(gateway, second_gateway, stack, app_redis):
    sender = "e2e-staff-two"
    url = stack.config.redis_url
    ticket = ask_for_a_human(gateway, app_redis, sender)  # on the first process
    records_call(url, lambda c: staff_queue.claim(c, ticket.id, "li"))
    last = inbox(second_gateway, sender)["last_id"]

    # The person long-polls the *second* process; staff send while the poll waits.
    result: dict[str, Any] = {}

    def poll() -> None:
        started = time.monotonic()
        result["body"] = inbox(second_gateway, sender, last, wait=20)
        result["seconds"] = time.monotonic() - started

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(1.0)
    records_call(url, lambda c: staff_queue.add_staff_message(c, ticket.id, "li", "我来帮您办，请稍等"))
    poller.join(30)
    assert [(m["from"], m["text"]) for m in result["body"]["messages"]] == [("staff", "我来帮您办，请稍等")]
    assert 0.9 < result["seconds"] < 10, result["seconds"]  # woken by the message, not by the time-out
    print(f"\nstaff message reached a long-poll on the other process {result['seconds'] - 1.0:.2f}s after it was sent")

    # Close with return_to_bot: both processes see the event, exactly one hands back.
    records_call(url, lambda c: staff_queue.close(c, ticket.id, "li", "done", return_to_bot=True))
    wait_returned(app_redis, ticket.id, 30)
    time.sleep(2.0)  # a second hand-back, if there were one, would land by now
    everything = inbox(gateway, sender)["messages"]
    prompts = [m for m in everything if m["from"] == "assistant"]
    assert len(prompts) == 1, everything
    assert [b["payload"] for b in prompts[0]["buttons"]] == RATING_PAYLOADS
    assert inbox(second_gateway, sender)["messages"] == everything  # the same stream from either process
    # The button is offered across processes too: pressing it on the second one rates the staff.
    _, text = say(second_gateway, sender, RATING_PAYLOADS[1])
    assert "满意" in text, text
    [rating] = [r for r in case_store.list_ratings(app_redis) if r.sender == sender]
    assert (rating.level, rating.served_by) == (4, "staff")


STAFF_PASSWORD = "e2e-staff-api-7q2m"


def staff_client(stack, username: str) -> httpx.Client:
    """A staff member logged in through the staff HTTP API (what the console does)."""

    async def make_user(client: Any) -> None:
        if await staff_users.get_user(client, username) is None:
            await staff_users.create_user(client, username, STAFF_PASSWORD, "小王")

    records_call(stack.config.redis_url, make_user)
    http = httpx.Client(base_url=stack.config.gateway_url, timeout=30)
    response = http.post("/api/staff/login", json={"username": username, "password": STAFF_PASSWORD})
    assert response.status_code == 200, response.text
    http.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return http


def test_through_the_staff_http_api(gateway, stack, app_redis):
    """The whole loop as the console drives it: login, the waiting list, take (a second take is 409),
    talk both ways, close with return_to_bot, the person rates the human service."""
    sender = "e2e-staff-http"
    ticket = ask_for_a_human(gateway, app_redis, sender)
    staff = staff_client(stack, "e2e-wang")
    other = staff_client(stack, "e2e-li")
    try:
        anonymous = httpx.get(f"{stack.config.gateway_url}/api/staff/tickets", timeout=10)
        assert anonymous.status_code == 401

        waiting = staff.get("/api/staff/tickets", params={"status": "waiting"}).json()["tickets"]
        [mine] = [t for t in waiting if t["id"] == ticket.id]
        assert mine["current_thing"]["code"] == THING and mine["checklist"] and mine["transcript"]
        assert mine["wait_seconds"] >= 0 and mine["why"] == "我搞不清，帮我找个工作人员"

        assert staff.post(f"/api/staff/tickets/{ticket.id}/claim").status_code == 200
        assert other.post(f"/api/staff/tickets/{ticket.id}/claim").status_code == 409
        last = inbox(gateway, sender)["last_id"]
        sent = staff.post(f"/api/staff/tickets/{ticket.id}/messages", json={"text": "您好，我是小王，出生医学证明拿到了吗？"})
        assert sent.status_code == 200, sent.text
        said, last = wait_for(gateway, sender, last, lambda m: m["from"] == "staff")
        assert said["text"] == "您好，我是小王，出生医学证明拿到了吗？"

        _, text = say(gateway, sender, "拿到了，明天过来")
        assert "工作人员正在处理" in text, text
        seen = staff.get(f"/api/staff/tickets/{ticket.id}").json()
        seen = seen.get("ticket", seen)
        assert [line["text"] for line in seen["transcript"]][-1] == "拿到了，明天过来"

        closed = staff.post(
            f"/api/staff/tickets/{ticket.id}/close", json={"outcome": "done", "note": "已指导", "return_to_bot": True}
        )
        assert closed.status_code == 200, closed.text
        prompt, last = wait_for(gateway, sender, last, lambda m: m["from"] == "assistant")
        assert "打个分" in prompt["text"] and [b["payload"] for b in prompt["buttons"]] == RATING_PAYLOADS
        wait_returned(app_redis, ticket.id)

        _, text = say(gateway, sender, RATING_PAYLOADS[1])
        assert "满意" in text, text
        [rating] = [r for r in case_store.list_ratings(app_redis) if r.sender == sender]
        assert (rating.level, rating.served_by) == (4, "staff")
    finally:
        staff.close()
        other.close()
