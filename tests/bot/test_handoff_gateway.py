"""The gateway while a person waits for staff: waiting, "bot back" and timeout paths.

Real Redis. Rasa is either on a closed port (refused: the waiting path must not need it, and a
resume that cannot be delivered must be handled politely) or an ``httpx.MockTransport`` that
records what the gateway sent (the resume event, the forwarded message).
"""

from __future__ import annotations

import json
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.config import Settings
from bot.conversation import conversation_id
from records import tickets as store
from records.handoff_phrases import asks_for_bot
from records.ticket_model import HandoffTicket, TicketStatus


def open_ticket(redis_client, sender: str = "u-ho", age: float = 0.0, **kw) -> HandoffTicket:
    ticket = HandoffTicket(sender=sender, created_at=time.time() - age, consent=True, **kw)
    store.create_ticket_sync(redis_client, ticket)
    return ticket


class FakeRasa:
    """Records requests; the webhook answers one message, the events endpoint 200 (or refuses)."""

    def __init__(self, resume_ok: bool = True) -> None:
        self.requests: list[httpx.Request] = []
        self.resume_ok = resume_ok

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path.endswith("/tracker/events"):
            if not self.resume_ok:
                raise httpx.ConnectError("Connection refused", request=request)
            return httpx.Response(200, json={"sender_id": "x", "events": []})
        if request.url.path == "/webhooks/rest/webhook":
            body = json.loads(request.content)
            return httpx.Response(200, json=[{"recipient_id": body["sender"], "text": "小助手的回答"}])
        return httpx.Response(404)

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]


def chat(settings: Settings, rasa: FakeRasa | None, message: str, sender: str = "u-ho") -> list[dict]:
    transport = httpx.MockTransport(rasa) if rasa else None
    with TestClient(create_app(settings, transport=transport)) as client:
        resp = client.post("/api/chat", json={"sender": sender, "message": message})
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_back_phrases():
    assert asks_for_bot("回到机器人") and asks_for_bot("算了，不等了！") and asks_for_bot("机器人 回来")
    assert not asks_for_bot("还要等多久") and not asks_for_bot("我要办退休")


def test_waiting_message_goes_to_the_ticket_not_to_rasa(settings, redis_client):
    ticket = open_ticket(redis_client)

    [reply] = chat(settings, None, "还要等好久咯")  # Rasa is on a closed port: not needed here

    assert "请稍等" in reply["text"] and "回到机器人" in reply["text"]
    assert "下一位就是您，大约等 5 分钟" in reply["text"]  # no pickups yet: 5 minutes a place
    assert reply["custom"]["handoff"] == {
        "ticket_id": ticket.id, "status": "waiting", "place": 1, "estimated_wait_seconds": 300
    }
    stored = store.get_ticket_sync(redis_client, ticket.id)
    assert stored.status == TicketStatus.waiting
    assert [(t.role, t.text) for t in stored.transcript] == [("user", "还要等好久咯")]
    assert store.queued_ids_sync(redis_client) == [ticket.id]


def test_no_ticket_means_rasa_answers_with_the_input_channel(settings, redis_client):
    rasa = FakeRasa()
    [reply] = chat(settings, rasa, "你好")
    assert reply["text"] == "小助手的回答"
    assert json.loads(rasa.requests[0].content)["input_channel"] == "rest"


def test_bot_back_resumes_rasa_and_closes_the_wait(settings, redis_client):
    ticket = open_ticket(redis_client)
    rasa = FakeRasa()

    [reply] = chat(settings.model_copy(update={"rasa_token": "s3cret"}), rasa, "回到机器人")

    assert "小助手回来了" in reply["text"]
    assert reply["custom"]["handoff"]["status"] == "resumed"
    [resume] = rasa.requests  # the "bot back" words themselves are not sent to Rasa
    assert resume.url.path == "/conversations/u-ho/tracker/events"
    assert resume.url.params["token"] == "s3cret"
    assert json.loads(resume.content) == [{"event": "resume"}, {"event": "action", "name": "action_listen"}]
    stored = store.get_ticket_sync(redis_client, ticket.id)
    assert (stored.status, stored.resumed_reason) == (TicketStatus.resumed, "asked")
    assert store.queued_ids_sync(redis_client) == []
    assert store.ticket_for_sender_sync(redis_client, "u-ho") is None

    [reply] = chat(settings, rasa, "我要办退休")  # the assistant answers again
    assert reply["text"] == "小助手的回答"


def test_timeout_resumes_and_forwards_the_message(settings, redis_client):
    ticket = open_ticket(redis_client, age=120)
    rasa = FakeRasa()

    replies = chat(settings.model_copy(update={"handoff_wait_seconds": 60}), rasa, "我要办退休")

    assert [r["text"] for r in replies][1] == "小助手的回答"
    assert "工作人员都在忙" in replies[0]["text"] and "0739-12345" in replies[0]["text"]
    assert rasa.paths() == ["/conversations/u-ho/tracker/events", "/webhooks/rest/webhook"]
    stored = store.get_ticket_sync(redis_client, ticket.id)
    assert (stored.status, stored.resumed_reason) == (TicketStatus.resumed, "timeout")


def test_picked_up_ticket_does_not_time_out(settings, redis_client):
    ticket = open_ticket(redis_client, age=120, status=TicketStatus.picked_up)
    [reply] = chat(settings.model_copy(update={"handoff_wait_seconds": 60}), None, "有人吗")
    assert "工作人员正在处理" in reply["text"]
    assert store.get_ticket_sync(redis_client, ticket.id).transcript[-1].text == "有人吗"


@pytest.mark.parametrize("message", ["回到机器人", "我要办退休"])
def test_unreachable_rasa_is_retried_on_the_next_message(settings, redis_client, message):
    ticket = open_ticket(redis_client, age=120)
    fast = settings.model_copy(update={"handoff_wait_seconds": 60})

    [reply] = chat(fast, FakeRasa(resume_ok=False), message)

    assert "小助手" in reply["text"] and "稍后再发一次" in reply["text"]
    stored = store.get_ticket_sync(redis_client, ticket.id)
    assert stored.status == TicketStatus.resumed
    assert store.queued_ids_sync(redis_client) == []  # staff no longer see it
    assert store.ticket_for_sender_sync(redis_client, "u-ho") is not None  # the resume is still owed

    rasa = FakeRasa()
    [reply] = chat(fast, rasa, "我要办退休")
    assert reply["text"] == "小助手的回答"
    assert rasa.paths() == ["/conversations/u-ho/tracker/events", "/webhooks/rest/webhook"]
    assert store.ticket_for_sender_sync(redis_client, "u-ho") is None


@pytest.mark.parametrize("sender", ["web:42", "a/b", "a%2Fb", "张三", "x y", ".", ".."])
def test_any_sender_id_waits_and_resumes_its_own_conversation(settings, redis_client, sender):
    """The ticket (written by the action server) carries the conversation id Rasa knows; the gateway
    finds it, resumes exactly that conversation in Rasa's URL, and answers the channel's sender id."""
    conversation = conversation_id(sender)
    ticket = open_ticket(redis_client, sender=conversation)
    rasa = FakeRasa()

    [reply] = chat(settings, rasa, "还要等好久", sender=sender)
    assert "请稍等" in reply["text"] and reply["recipient_id"] == sender
    assert store.get_ticket_sync(redis_client, ticket.id).transcript[-1].text == "还要等好久"

    [reply] = chat(settings, rasa, "回到机器人", sender=sender)
    assert "小助手回来了" in reply["text"] and reply["recipient_id"] == sender
    [resume] = rasa.requests
    assert resume.url.raw_path.decode() == f"/conversations/{conversation}/tracker/events"
    assert store.ticket_for_sender_sync(redis_client, conversation) is None

    [reply] = chat(settings, rasa, "我要办退休", sender=sender)
    assert reply == {"recipient_id": sender, "text": "小助手的回答"}
    assert json.loads(rasa.requests[-1].content)["sender"] == conversation
