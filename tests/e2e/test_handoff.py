"""Human handoff through the real stack: consent, ticket in Redis, waiting, and the assistant back."""

from __future__ import annotations

import pytest
import redis
from e2e_helpers import say

from records import case_store as case_store
from records import tickets as store
from records.case_model import CaseKind
from records.ticket_model import TicketStatus

pytestmark = pytest.mark.e2e

SENDER = "e2e-handoff"


@pytest.fixture
def app_redis(stack):
    client = redis.Redis.from_url(stack.config.redis_url, decode_responses=True)
    yield client
    client.close()


def test_handoff_consent_wait_and_back(gateway, app_redis):
    situation = "我老倌子明年满60岁，要办退休手续，哪么搞"
    _, text = say(gateway, SENDER, situation)
    assert "退休" in text, text

    messages, text = say(gateway, SENDER, "我搞不清，帮我找个工作人员")
    assert "同意" in text, text
    assert {b["payload"] for m in messages for b in m.get("buttons") or []} >= {"/affirm", "/deny"}

    _, text = say(gateway, SENDER, "/affirm")
    assert "工作人员会在这里直接回复您" in text, text
    assert "回到机器人" in text and "09:00-12:00" in text

    ticket = store.ticket_for_sender_sync(app_redis, SENDER)
    assert ticket is not None, "no open handoff ticket in Redis"
    assert ticket.status == TicketStatus.waiting and ticket.consent and ticket.channel == "rest"
    assert ticket.id in store.queued_ids_sync(app_redis)
    assert ticket.current_thing and ticket.current_thing.code == "43PCN0013"
    assert "43PCN0013" in [m.code for m in ticket.matched_things]
    assert ticket.why == "我搞不清，帮我找个工作人员"
    user_lines = [t.text for t in ticket.transcript if t.role == "user"]
    assert situation in user_lines
    assert any("退休" in t.text for t in ticket.transcript if t.role == "bot")

    _, text = say(gateway, SENDER, "还要等好久咯")
    assert "请稍等" in text, text
    ticket = store.get_ticket_sync(app_redis, ticket.id)
    assert ticket.transcript[-1].text == "还要等好久咯"

    _, text = say(gateway, SENDER, "回到机器人")
    assert "小助手回来了" in text, text
    assert store.get_ticket_sync(app_redis, ticket.id).status == TicketStatus.resumed
    assert store.ticket_for_sender_sync(app_redis, SENDER) is None

    _, text = say(gateway, SENDER, "那要带么子材料咯")
    assert "请稍等" not in text
    assert "身份证" in text or "材料" in text, text


def test_asking_for_staff_after_a_bad_rating_goes_to_the_handoff(gateway, app_redis):
    sender = "e2e-handoff-bad-rating"
    say(gateway, sender, "我要办残疾证")
    messages, _ = say(gateway, sender, "谢谢你")  # the rating buttons: only offered payloads are intents
    assert '/rate{"rating":"2"}' in {b["payload"] for m in messages for b in m.get("buttons") or []}, messages
    _, text = say(gateway, sender, '/rate{"rating":"2"}')
    assert "哪里没做好" in text, text  # asks what went wrong

    messages, text = say(gateway, sender, "转人工")
    assert "同意" in text, text  # the handoff consent question, not "记下了"
    assert {b["payload"] for m in messages for b in m.get("buttons") or []} >= {"/affirm", "/deny"}
    assert not [c for c in case_store.list_cases(app_redis, CaseKind.bad_rating) if c.sender == sender]

