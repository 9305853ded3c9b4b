"""Issue 11's "done when", in a real headless Chromium against the real stack: a person on /api/chat
books a 帮代办 half-day and then asks for a human; a staff member in /staff sees the booking (picking
its day) and marks it, takes the ticket, answers; the person's answer reaches the console live;
staff close and give the conversation back; the person gets the rating buttons and rates the human
service. Screenshots go to var/artifacts/."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from browser_helpers import chromium, run_records
from e2e_helpers import say

from records import case_store, staff_users, tickets
from records.service_hours import ServiceSettings, local
from records.ticket_model import TicketStatus

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "var" / "artifacts"
PASSWORD = "e2e-console-stack-5t8w"
CODE_RE = re.compile(r"预约码：([2-9A-Z]{6})")


def make_staff_user(redis_url: str, username: str) -> None:
    async def create(client: Any) -> None:
        if await staff_users.get_user(client, username) is None:
            await staff_users.create_user(client, username, PASSWORD, "赵工")

    run_records(redis_url, create)


@pytest.fixture()
def page(stack) -> Iterator[Any]:
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1500, "height": 1000}, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            context.close()


def inbox_until(gateway: httpx.Client, sender: str, after: str | None, want: str, seconds: float = 30) -> tuple[dict, str]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        params: dict[str, Any] = {"wait": 5, **({"after": after} if after else {})}
        body = gateway.get(f"/api/chat/{sender}/inbox", params=params, timeout=40).json()
        after = body["last_id"]
        for message in body["messages"]:
            if message["from"] == want:
                return message, after
    pytest.fail(f"no {want} message in the inbox of {sender}")


def test_a_person_is_served_in_the_console_and_rates_it(stack, gateway, page) -> None:
    sender = "e2e-console-stack"
    app_redis = redis.Redis.from_url(stack.config.redis_url, decode_responses=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    # The person: the matter, a booking, then a human.
    _, text = say(gateway, sender, "我堂客上个月生了个伢子，要上户口")
    assert "新生儿出生" in text, text
    _, text = say(gateway, sender, "帮我约后天上午")
    code = CODE_RE.search(text).group(1)
    day = local(time.time(), ServiceSettings()).date() + timedelta(days=2)
    say(gateway, sender, "我还是想找个工作人员问问")
    _, text = say(gateway, sender, "/affirm")
    assert "工作人员会在这里直接回复您" in text, text
    ticket = tickets.ticket_for_sender_sync(app_redis, sender)
    last = gateway.get(f"/api/chat/{sender}/inbox").json()["last_id"]

    # Staff: log in, see the booking on its day and mark it.
    make_staff_user(stack.config.redis_url, "e2e-zhao")
    page.goto(f"{stack.config.gateway_url}/staff")
    page.fill("#login-user", "e2e-zhao")
    page.fill("#login-pass", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#live:has-text('实时更新中')")
    page.fill("#appt-date", day.isoformat())
    page.dispatch_event("#appt-date", "change")
    booking = page.locator(f"#appointments li:has-text('{code}')")
    booking.wait_for(state="visible")
    assert "新生儿出生一件事" in booking.inner_text()
    booking.locator("button:has-text('已到')").click()
    page.wait_for_selector(f"#appointments li:has-text('{code}'):has-text('已到')")

    # Take the ticket, answer; the person reads it and answers back, live in the console.
    item = page.locator(f"#waiting-list li[data-ticket='{ticket.id}']")
    item.wait_for(state="visible")
    item.click()
    page.click("#claim")
    page.wait_for_selector("#reply-form", state="visible")
    assert "新生儿出生一件事" in page.locator("#console-view").inner_text()
    page.fill("#reply-text", "您好，我是赵工。您约的后天上午来就行，带上出生医学证明。")
    page.click("#reply-form button[type=submit]")
    said, last = inbox_until(gateway, sender, last, "staff")
    assert said["text"] == "您好，我是赵工。您约的后天上午来就行，带上出生医学证明。"
    _, text = say(gateway, sender, "好的，谢谢赵工")
    page.wait_for_selector("#transcript li.user:has-text('谢谢赵工')")
    page.screenshot(path=str(ARTIFACTS / "staff-on-stack.png"), full_page=True)

    # Close: 办结, back to the assistant; the person is asked for the rating and gives it.
    page.select_option("#close-outcome", "done")
    page.fill("#close-note", "已约后天上午")
    page.click("#close-form button[type=submit]")
    page.wait_for_selector("#t-status:has-text('已结束')")
    prompt, last = inbox_until(gateway, sender, last, "assistant")
    assert "打个分" in prompt["text"], prompt
    assert tickets.get_ticket_sync(app_redis, ticket.id).status == TicketStatus.closed
    _, text = say(gateway, sender, prompt["buttons"][0]["payload"])
    assert "非常满意" in text, text
    [rating] = [r for r in case_store.list_ratings(app_redis) if r.sender == sender]
    assert (rating.level, rating.served_by) == (5, "staff")
    assert errors == []
    app_redis.close()
