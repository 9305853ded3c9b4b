"""After staff close a ticket: the hand-back (router and event follower), the 办不成事 case of a close
as 无法办理, queue places in the inbox, and ``GET /api/chat/{sender}/inbox``.

Real Redis; Rasa is an ``httpx.MockTransport`` that records the requests and answers the
``trigger_intent`` call with the rating prompt.
"""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.conversation import conversation_id
from records import case_store, staff_queue, tickets
from records.case_model import CaseKind
from records.client import async_client
from records.ticket_model import HandoffTicket, MatchedThing, TicketStatus

RATING_BUTTONS = [{"title": "非常满意", "payload": '/rate{"rating":"5"}'}, {"title": "满意", "payload": '/rate{"rating":"4"}'}]
THING = MatchedThing(code="43PCN0009", title="新生儿出生“一件事”")


class FakeRasa:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path.endswith("/tracker/events"):
            return httpx.Response(200, json={"events": []})
        if path.endswith("/trigger_intent"):
            sender = path.split("/")[2]
            text = "谢谢您的耐心！小助手回来了。给工作人员的服务打个分："
            return httpx.Response(200, json={"tracker": {}, "messages": [{"recipient_id": sender, "text": text, "buttons": RATING_BUTTONS}]})
        if path == "/webhooks/rest/webhook":
            body = json.loads(request.content)
            return httpx.Response(200, json=[{"recipient_id": body["sender"], "text": f"答：{body['message']}"}])
        return httpx.Response(404)

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]


def _run(coro):
    return asyncio.run(coro)


async def _closed_ticket(redis_url: str, sender: str, outcome: str = "done", return_to_bot: bool = True) -> HandoffTicket:
    client = async_client(redis_url)
    try:
        ticket = HandoffTicket(
            sender=sender, consent=True, current_thing=THING, why="帮我找个人", contact="13907391234"
        )
        await tickets.create_ticket(client, ticket)
        await staff_queue.claim(client, ticket.id, "zhang")
        await staff_queue.add_staff_message(client, ticket.id, "zhang", "您好，我是小张")
        return await staff_queue.close(client, ticket.id, "zhang", outcome, note="材料不全", return_to_bot=return_to_bot)
    finally:
        await client.aclose()


def test_person_writes_before_the_follower_hand_back_runs_in_the_router(settings, redis_client, redis_url):
    ticket = _run(_closed_ticket(redis_url, "hb-1"))
    rasa = FakeRasa()
    quiet = settings.model_copy(update={"handoff_live": False, "rasa_token": "s3cret"})  # the router must do it
    with TestClient(create_app(quiet, transport=httpx.MockTransport(rasa))) as client:
        replies = client.post("/api/chat", json={"sender": "hb-1", "message": "要带么子材料"}).json()
        assert [r["text"] for r in replies][-1] == "答：要带么子材料"
        assert replies[0]["buttons"] == RATING_BUTTONS and replies[0]["recipient_id"] == "hb-1"
        events = json.loads(rasa.requests[0].content)
        assert events == [
            {"event": "resume"},
            {"event": "slot", "name": "current_thing", "value": THING.code},
            {"event": "slot", "name": "served_by", "value": "staff"},
            {"event": "action", "name": "action_listen"},
        ]
        assert json.loads(rasa.requests[1].content) == {"name": "staff_handed_back", "entities": {}}
        assert dict(rasa.requests[1].url.params) == {"token": "s3cret", "include_events": "NONE"}
        assert rasa.requests[0].url.params["token"] == "s3cret"
        assert rasa.paths()[2] == "/webhooks/rest/webhook"
        # The rating buttons are now offered: pressing one goes to Rasa as an intent.
        client.post("/api/chat", json={"sender": "hb-1", "message": '/rate{"rating":"5"}'})
        assert json.loads(rasa.requests[-1].content)["message"] == '/rate{"rating":"5"}'
    stored = tickets.get_ticket_sync(redis_client, ticket.id)
    assert stored.returned_at is not None and tickets.ticket_for_sender_sync(redis_client, "hb-1") is None
    assert rasa.paths().count("/conversations/hb-1/trigger_intent") == 1


def test_follower_hands_back_once_into_the_inbox_and_files_the_cannot_do_case(settings, redis_client, redis_url):
    rasa = FakeRasa()
    sender = "web:77"  # not a kept id: the inbox path uses the channel's id, Redis the conversation id
    conversation = conversation_id(sender)
    live = settings.model_copy(update={"handoff_live": True})
    with TestClient(create_app(live, transport=httpx.MockTransport(rasa))) as client:
        time.sleep(0.3)  # the follower is reading the stream
        ticket = _run(_closed_ticket(redis_url, conversation, outcome="cannot_do"))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and tickets.get_ticket_sync(redis_client, ticket.id).returned_at is None:
            time.sleep(0.1)
        body = client.get(f"/api/chat/{sender}/inbox").json()
    # (The queue-place notice of the "created" event may come or not: the claim follows at once.)
    kept = [m for m in body["messages"] if not m["text"].startswith(("下一位就是您", "您前面还有"))]
    froms = [(m["from"], m["text"][:8]) for m in kept]
    texts = [m["text"] for m in kept]
    assert [f for f, _ in froms] == ["system", "staff", "system", "system", "assistant"], froms
    assert "您好，我是小张" in texts and "办不成事" in texts[3]
    [case] = case_store.list_cases(redis_client, CaseKind.bancheng)
    assert case.id in texts[3] and case.ticket_id == ticket.id and case.current_thing == THING.code
    assert case.contact == "13907391234" and "材料不全" in (case.story or "") and "您好，我是小张" in (case.story or "")
    assert body["messages"][-1]["buttons"] == RATING_BUTTONS and body["last_id"] == body["messages"][-1]["id"]
    assert rasa.paths().count(f"/conversations/{conversation}/trigger_intent") == 1
    assert tickets.get_ticket_sync(redis_client, ticket.id).case_id == case.id


def test_inbox_long_poll_wakes_up_on_a_staff_message(settings, redis_client, redis_url):
    ticket = HandoffTicket(sender="lp-1", consent=True)
    tickets.create_ticket_sync(redis_client, ticket)
    quiet = settings.model_copy(update={"handoff_live": False})

    async def staff_says_later() -> None:
        await asyncio.sleep(1.0)
        client = async_client(redis_url)
        try:
            await staff_queue.claim(client, ticket.id, "li")
            await staff_queue.add_staff_message(client, ticket.id, "li", "马上帮您看")
        finally:
            await client.aclose()

    with TestClient(create_app(quiet)) as client:
        first = client.get("/api/chat/lp-1/inbox").json()
        assert first == {"messages": [], "last_id": "0-0"}
        started = time.monotonic()
        import threading

        threading.Thread(target=lambda: asyncio.run(staff_says_later())).start()
        body = client.get("/api/chat/lp-1/inbox", params={"after": first["last_id"], "wait": 10}).json()
        waited = time.monotonic() - started
        assert 0.8 < waited < 8, waited
        assert [m["from"] for m in body["messages"]] == ["system"]  # the claim notice wakes it first
        body2 = client.get("/api/chat/lp-1/inbox", params={"after": body["last_id"], "wait": 5}).json()
        assert [(m["from"], m["text"]) for m in body2["messages"]] == [("staff", "马上帮您看")]
        empty = client.get("/api/chat/lp-1/inbox", params={"after": body2["last_id"], "wait": 1}).json()
        assert empty == {"messages": [], "last_id": body2["last_id"]}


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("/api/chat/lp-2/inbox", {"wait": "26"}, 422, "out_of_range"),
        ("/api/chat/lp-2/inbox", {"wait": "abc"}, 422, "wrong_type"),
        ("/api/chat/lp-2/inbox", {"after": "nope"}, 422, "invalid_value"),
        ("/api/chat/%01/inbox", {}, 422, "invalid_value"),
        ("/api/chat/" + "x" * 200 + "/inbox", {}, 422, "too_long"),
        ("/api/chat/%20/inbox", {}, 422, "empty_field"),
    ],
)
def test_inbox_refuses_bad_requests_in_the_usual_shape(settings, redis_client, path, params, status, code):
    with TestClient(create_app(settings.model_copy(update={"handoff_live": False}))) as client:
        resp = client.get(path, params=params)
    assert resp.status_code == status and resp.json()["error"]["code"] == code


def test_inbox_reads_are_rate_limited(settings, redis_client):
    limited = settings.model_copy(update={"handoff_live": False, "inbox_rate_per_conversation": "3/minute"})
    with TestClient(create_app(limited)) as client:
        codes = [client.get("/api/chat/rl-1/inbox").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        assert client.get("/api/chat/rl-2/inbox").status_code == 200  # another conversation


def test_waiting_people_are_told_their_new_place_once(settings, redis_client, redis_url):
    async def scenario() -> None:
        from bot.handoff.live import tell_places

        client = async_client(redis_url)
        try:
            a = await tickets.create_ticket(client, HandoffTicket(sender="q-a", created_at=1000.0))
            b = await tickets.create_ticket(client, HandoffTicket(sender="q-b", created_at=1001.0))
            assert await tell_places(client) == 2
            assert await tell_places(client) == 0  # nothing changed: nobody told twice
            await staff_queue.claim(client, a.id, "zhang")
            assert await tell_places(client) == 1
            from records.inbox import read_inbox

            texts = [m.text for m in await read_inbox(client, "q-b")]
            assert texts[0].startswith("您前面还有 1 位") and texts[-1].startswith("下一位就是您")
            assert b.status == TicketStatus.waiting
        finally:
            await client.aclose()

    _run(scenario())
