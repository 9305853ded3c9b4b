"""Only the assistant's own buttons are intents (bot/buttons.py), with a real Redis and a fake Rasa."""

from __future__ import annotations

import json

import httpx
import pytest
import redis
from gateway_harness import running_gateway

from bot import buttons
from bot.config import Settings
from bot.conversation import conversation_id

CONSENT = [{"title": "同意", "payload": "/affirm"}, {"title": "不同意", "payload": "/deny"}]


class FakeRasa:
    """Records what reaches Rasa; offers the consent buttons after "转人工"."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/health":
            return httpx.Response(200, json={"status": "ok"})
        body = json.loads(request.content)
        self.seen.append(body["message"])
        reply: dict = {"recipient_id": body["sender"], "text": "好的"}
        if body["message"] == "转人工":
            reply["buttons"] = CONSENT
        if body["message"] == "many buttons":
            reply["quick_replies"] = [{"title": str(i), "payload": f"/choose{{\"n\":{i}}}"} for i in range(100)]
        return httpx.Response(200, json=[reply])


async def say(http: httpx.AsyncClient, sender: str, message: str) -> list[dict]:
    response = await http.post("/api/chat", json={"sender": sender, "message": message})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ('/rate{"rating":"-1"}', '／rate{"rating":"-1"}'),
        ("/restart", "／restart"),
        ("/session_start", "／session_start"),
        ("/affirm", "／affirm"),
        ("  /restart  ", "／restart"),
        ("\u3000/restart", "／restart"),  # Rasa strips with str.strip(): ideographic spaces too
    ],
)
async def test_a_typed_intent_that_was_not_offered_reaches_rasa_as_text(
    settings: Settings, redis_client: redis.Redis, typed: str, sent: str
) -> None:
    rasa = FakeRasa()
    async with running_gateway(settings, rasa) as http:
        await say(http, "typed-1", typed)
    assert rasa.seen == [sent]


async def test_full_width_and_plain_text_pass_unchanged(settings: Settings, redis_client: redis.Redis) -> None:
    rasa = FakeRasa()
    async with running_gateway(settings, rasa) as http:
        for text in ("／restart", "我要办退休", "a/b"):
            await say(http, "typed-2", text)
    assert rasa.seen == ["／restart", "我要办退休", "a/b"]


async def test_an_offered_payload_is_an_intent_in_that_conversation_only(
    settings: Settings, redis_client: redis.Redis
) -> None:
    rasa = FakeRasa()
    async with running_gateway(settings, rasa) as http:
        replies = await say(http, "web:42", "转人工")
        assert replies[0]["recipient_id"] == "web:42"
        await say(http, "web:42", "/affirm")
        await say(http, "web:43", "/affirm")  # offered to another conversation
        await say(http, "web:42", "/restart")  # never offered
    assert rasa.seen == ["转人工", "/affirm", "／affirm", "／restart"]
    ttl = redis_client.ttl(buttons.key(conversation_id("web:42")))
    assert 0 < ttl <= settings.button_payloads_ttl_seconds


async def test_remembered_payloads_are_bounded(settings: Settings, redis_client: redis.Redis) -> None:
    rasa = FakeRasa()
    async with running_gateway(settings, rasa) as http:
        await say(http, "typed-3", "many buttons")
        await say(http, "typed-3", '/choose{"n":99}')  # the newest are kept
    assert redis_client.zcard(buttons.key("typed-3")) == settings.button_payloads_max
    assert rasa.seen[-1] == '/choose{"n":99}'


def test_payloads_are_read_from_buttons_and_quick_replies() -> None:
    replies = [
        {"text": "a", "buttons": [{"title": "x", "payload": "/affirm"}, {"title": "y", "payload": "plain"}]},
        {"quick_replies": [{"title": "z", "payload": " /deny "}]},
        {"buttons": "garbage"},
        {"buttons": [None, {"payload": 3}]},
    ]
    assert buttons.offered_payloads(replies) == ["/affirm", "/deny"]
