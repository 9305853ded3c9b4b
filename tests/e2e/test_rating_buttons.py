"""The 好差评 buttons through the real stack: the person gets plain payloads, Rasa logs no error."""

from __future__ import annotations

import time

import pytest
import redis
from e2e_helpers import say

from records import case_store as store

pytestmark = pytest.mark.e2e

PAYLOADS = [f'/rate{{"rating":"{n}"}}' for n in (5, 4, 3, 2, 1)]


def _rasa_log(stack) -> str:
    return "".join(p.read_text(errors="replace") for p in sorted(stack.config.log_dir.glob("rasa.log*")))


def test_rating_buttons_arrive_as_payloads_and_rasa_logs_no_template_error(stack, gateway):
    sender = "e2e-rating-buttons"
    before = _rasa_log(stack).count("interpolator")
    say(gateway, sender, "我要办退休")
    messages, _ = say(gateway, sender, "谢谢你")
    assert [b["payload"] for m in messages for b in m.get("buttons") or []] == PAYLOADS, messages

    _, text = say(gateway, sender, PAYLOADS[0])  # pressing 非常满意
    assert "非常满意" in text, text
    client = redis.Redis.from_url(stack.config.redis_url)
    try:
        ratings = [r for r in store.list_ratings(client) if r.sender == sender]
    finally:
        client.close()
    assert [r.level for r in ratings] == [5]
    time.sleep(1.0)  # Rasa's output reaches its log file through the stack's log pump
    assert _rasa_log(stack).count("interpolator") == before, "Rasa logged a response-templating error"
