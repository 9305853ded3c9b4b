"""action_handoff: the ticket it writes to a real Redis (consent and contact rules), its reply, the pause."""

from __future__ import annotations

import contextlib
import socket
from typing import Any

import pytest
import redis
from rasa_sdk import Tracker

from actions import handoff
from actions.handoff import ActionHandoff
from records import tickets as store
from records.client import async_client


def user(text: str, intent: str, ts: float, entities: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    parse = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": entities or []}
    return {"event": "user", "text": text, "timestamp": ts, "parse_data": parse, "input_channel": "kiosk"}


def bot(text: str, ts: float) -> dict[str, Any]:
    return {"event": "bot", "text": text, "timestamp": ts}


def conversation(consent_intent: str, phone: bool = True, group: str | None = None) -> Tracker:
    events = [
        user("我堂客生了个伢子", "describe_situation", 1.0),
        {"event": "slot", "name": "current_thing", "value": "43PCP0004", "timestamp": 1.1},
        bot("您要办的是：留学服务“一件事”", 1.2),
        {"event": "slot", "name": "current_thing", "value": "43PCN0009", "timestamp": 1.3},
        {"event": "slot", "name": "previous_thing", "value": "43PCP0004", "timestamp": 1.3},
        bot("您要办的是：新生儿出生一件事", 1.4),
    ]
    if phone:
        events += [user("我的电话是13907391234", "inform_phone", 2.0,
                        [{"entity": "phone", "value": "13907391234"}]), bot("好的，记下您的电话了。", 2.1)]
    events += [
        user("我搞不清，帮我找个工作人员", "ask_human", 3.0),
        bot("好的，帮您转给工作人员。您同意吗？", 3.1),
        user("/" + consent_intent, consent_intent, 4.0),
    ]
    latest = events[-1]["parse_data"]
    return Tracker(
        sender_id="web-42",
        slots={"current_thing": "43PCN0009", "previous_thing": "43PCP0004", "match_verdict": "sure",
               "town": None, "person_group": group},
        latest_message=latest,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


@pytest.fixture
def real_redis(redis_url: str, records_redis, monkeypatch: pytest.MonkeyPatch) -> redis.Redis:
    """The test Redis, staff at work (records_redis): the ticket is written, no appointment offered."""
    client = redis.Redis.from_url(redis_url)
    monkeypatch.setattr(handoff, "redis_client", lambda: client)
    return client


async def test_consent_passes_on_what_the_assistant_knows(fake_service, dispatcher, real_redis, redis_client):
    events = await ActionHandoff().run(dispatcher, conversation("affirm"), {})

    assert events == [{"event": "pause", "timestamp": None}]
    [ticket_id] = store.queued_ids_sync(redis_client)
    ticket = store.get_ticket_sync(redis_client, ticket_id)
    assert store.ticket_for_sender_sync(redis_client, "web-42") == ticket
    assert (ticket.sender, ticket.channel, ticket.consent, ticket.status.value) == ("web-42", "kiosk", True, "waiting")
    assert ticket.why == "我搞不清，帮我找个工作人员"
    assert [(m.code, m.title) for m in ticket.matched_things] == [
        ("43PCP0004", "留学服务“一件事”"),
        ("43PCN0009", "新生儿出生一件事"),
    ]
    assert ticket.current_thing and ticket.current_thing.code == "43PCN0009"
    assert ticket.checklist and "新生儿出生一件事" in ticket.checklist and "父母身份证" in ticket.checklist
    assert ticket.contact == "13907391234"
    assert [(t.role, t.text) for t in ticket.transcript][:2] == [
        ("user", "我堂客生了个伢子"),
        ("bot", "您要办的是：留学服务“一件事”"),
    ]
    assert len(ticket.transcript) == 8 and ticket.transcript[0].ts == 1.0
    assert ticket.priority is False

    [message] = dispatcher.messages
    text = message["text"]
    assert ticket_id[:8] in text
    assert "工作人员会在这里直接回复您" in text and "09:00-12:00" in text and "13:30-17:00" in text
    assert "回到机器人" in text


async def test_consent_without_a_phone_number_has_no_contact(fake_service, dispatcher, real_redis, redis_client):
    await ActionHandoff().run(dispatcher, conversation("affirm", phone=False), {})
    ticket = store.ticket_for_sender_sync(redis_client, "web-42")
    assert ticket.consent and ticket.contact is None and ticket.transcript


async def test_no_consent_passes_on_nothing_personal(fake_service, dispatcher, real_redis, redis_client):
    events = await ActionHandoff().run(dispatcher, conversation("deny", group="孕妇"), {})

    assert events == [{"event": "pause", "timestamp": None}]
    ticket = store.ticket_for_sender_sync(redis_client, "web-42")
    assert ticket.consent is False
    assert ticket.priority is True and ticket.priority_reason is None
    assert ticket.contact is None and ticket.why is None
    assert ticket.transcript == [] and ticket.matched_things == [] and ticket.checklist is None
    assert "优先" in dispatcher.messages[0]["text"]


async def test_priority_group_orders_the_queue(fake_service, dispatcher, real_redis, redis_client):
    plain = conversation("affirm")
    await ActionHandoff().run(dispatcher, plain, {})
    elderly = conversation("affirm", group="老年人")
    elderly.sender_id = "web-43"
    await ActionHandoff().run(dispatcher, elderly, {})

    first = store.get_ticket_sync(redis_client, store.queued_ids_sync(redis_client)[0])
    assert (first.sender, first.priority, first.priority_reason) == ("web-43", True, "老年人")


async def test_redis_down_gives_the_hotline_and_does_not_pause(fake_service, dispatcher, monkeypatch):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = redis.Redis.from_url(f"redis://127.0.0.1:{port}/0", socket_connect_timeout=1)
    monkeypatch.setattr(handoff, "redis_client", lambda: down)
    monkeypatch.setattr(handoff, "records_client", lambda: _down_records(port))

    events = await ActionHandoff().run(dispatcher, conversation("affirm"), {})

    assert events == []
    assert "0739-12345" in dispatcher.messages[0]["text"]


@contextlib.asynccontextmanager
async def _down_records(port: int):
    client = async_client(f"redis://127.0.0.1:{port}/0")
    try:
        yield client
    finally:
        await client.aclose()


def test_the_transcript_keeps_the_core_fallbacks_text() -> None:
    events = [
        {"event": "user", "text": "哦", "timestamp": 1.0},
        {"event": "bot", "text": None, "data": {"custom": {"fallback": "core", "text": "好的。您换个说法再讲讲看。"}}, "timestamp": 2.0},
        {"event": "bot", "text": None, "data": {"custom": {"other": 1}}, "timestamp": 3.0},
    ]
    assert [(t.role, t.text) for t in handoff.transcript(events)] == [("user", "哦"), ("bot", "好的。您换个说法再讲讲看。")]


def test_masked_or_placeholder_digits_are_never_a_contact():
    # Issue #13: masked digits and dates were taken as a phone number.
    from actions.handoff import contact, plausible_phone

    def said(text: str, entity: str | None = None) -> dict:
        entities = [{"entity": "phone", "value": entity}] if entity else []
        return {"event": "user", "text": text, "parse_data": {"entities": entities}}

    assert not plausible_phone("0000-00000000")
    assert not plausible_phone("13800000000")
    assert contact([said("电话：0000-00000000", "0000-00000000")]) is None
    assert contact([said("手机****13907391234****")]) is None
    assert contact([said("身份证430523199001011234")]) is None
    assert contact([said("我的电话是13907391234", "13907391234")]) == "13907391234"
    assert contact([said("打0739-5321234找我")]) == "0739-5321234"
