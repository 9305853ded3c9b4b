"""帮代办 appointments through the real stack: a person on /api/chat names the matter, books a
half-day in words, sees it, staff see it in the day's list (staff HTTP API) and mark it; a second
booking is cancelled from the chat; with a long queue, asking for a human offers the free half-days
first and a button books one."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator
from datetime import date, timedelta

import httpx
import pytest
import redis
from e2e_helpers import say

from records import appointments as appt
from records import staff_users, tickets
from records.client import async_client
from records.service_hours import ServiceSettings, local
from records.staff_queue import QUEUE_KEY

pytestmark = pytest.mark.e2e

THING = "43PCN0009"  # 新生儿出生一件事
PASSWORD = "e2e-appointments-9f3k"
CODE_RE = re.compile(r"预约码：([2-9A-Z]{6})")


@pytest.fixture
def app_redis(stack) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(stack.config.redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def staff(stack, gateway) -> Iterator[httpx.Client]:
    """A staff member logged in through the staff API (the console's own calls)."""

    async def make_user() -> None:
        client = async_client(stack.config.redis_url)
        try:
            if await staff_users.get_user(client, "e2e-appt") is None:
                await staff_users.create_user(client, "e2e-appt", PASSWORD, "预约测试")
        finally:
            await client.aclose()

    asyncio.run(make_user())
    with httpx.Client(base_url=stack.config.gateway_url, timeout=30) as http:
        response = http.post("/api/staff/login", json={"username": "e2e-appt", "password": PASSWORD})
        assert response.status_code == 200, response.text
        http.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        yield http


def county_today() -> date:
    return local(time.time(), ServiceSettings()).date()


def test_book_see_staff_list_mark_and_cancel(gateway, staff, app_redis) -> None:
    sender = "e2e-appt-1"
    _, text = say(gateway, sender, "我堂客上个月生了个伢子，要上户口")
    assert "新生儿出生" in text, text

    _, text = say(gateway, sender, "平时要上班，帮我约后天上午去办")
    day = county_today() + timedelta(days=2)
    assert "预约好了" in text and f"{day.month}月{day.day}日" in text and "上午" in text, text
    assert "新生儿出生一件事" in text and "红石科技园" in text, text
    code = CODE_RE.search(text).group(1)

    _, text = say(gateway, sender, "我约的是哪天")
    assert code in text and f"{day.month}月{day.day}日" in text, text

    # Staff see it in the day's list, with the matter and the checklist, and mark it attended.
    listed = staff.get("/api/staff/appointments", params={"date": day.isoformat()})
    assert listed.status_code == 200, listed.text
    [mine] = [a for a in listed.json()["appointments"] if a["code"] == code]
    assert mine["thing_title"] == "新生儿出生一件事" and mine["status"] == "booked"
    assert "身份证" in json.dumps(mine, ensure_ascii=False)
    marked = staff.post(f"/api/staff/appointments/{code}/mark", json={"status": "attended"})
    assert marked.status_code == 200 and marked.json()["appointment"]["status"] == "attended"

    # A second booking, cancelled from the chat: its place is free again.
    _, text = say(gateway, sender, "再帮我约大后天下午")
    later = county_today() + timedelta(days=3)
    second = CODE_RE.search(text).group(1)
    assert second != code and app_redis.hlen(appt.slot_key(later, "pm")) == 1
    _, text = say(gateway, sender, "那天去不了，取消预约")
    assert "已经取消" in text and second in text, text
    assert app_redis.hlen(appt.slot_key(later, "pm")) == 0
    listed = staff.get("/api/staff/appointments", params={"date": later.isoformat()}).json()["appointments"]
    assert second not in [a["code"] for a in listed]


def test_a_long_queue_offers_an_appointment_and_a_button_books_it(gateway, app_redis) -> None:
    sender = "e2e-appt-2"
    fillers = {f"e2e-filler-{n}": n for n in range(130)}  # 131 places x 5 min > APPOINTMENT_OFFER_WAIT_MINUTES
    app_redis.zadd(QUEUE_KEY, fillers)
    try:
        _, text = say(gateway, sender, "我搞不清，帮我找个工作人员")
        assert "同意" in text, text
        replies, text = say(gateway, sender, "/affirm")
        assert "排队的人多" in text and "预约" in text, text
        assert tickets.ticket_for_sender_sync(app_redis, sender) is None
        buttons = [b for r in replies for b in r.get("buttons") or []]
        assert buttons[-1]["payload"] == "/queue_anyway"
        first = buttons[0]

        _, text = say(gateway, sender, first["payload"])
        assert "预约好了" in text, text
        booked_day = first["title"].split("（")[0]
        assert booked_day in text, (booked_day, text)
    finally:
        app_redis.zrem(QUEUE_KEY, *fillers)

    # The same consent question again, now the queue is short: a ticket, as before.
    say(gateway, sender, "帮我找个工作人员")
    _, text = say(gateway, sender, "/affirm")
    assert "工作人员会在这里直接回复您" in text, text
    assert tickets.ticket_for_sender_sync(app_redis, sender) is not None
    say(gateway, sender, "回到机器人")
