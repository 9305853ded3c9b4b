"""The staff console in a real headless Chromium (Debian's, driven by Playwright) against a real gateway
process and Redis: log in, a new ticket appears without reload, take it, reply (the message reaches the
person's inbox), close; a citizen message with HTML in it is shown as text and runs nothing; an
anonymous visit gets the login. Screenshots go to var/artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import redis
from browser_helpers import chromium, run_records
from staff_helpers import PASSWORD, new_ticket

from records import staff_users
from records.handback import add_citizen_message
from records.inbox import read_inbox
from records.ticket_model import TicketStatus
from records.tickets import get_ticket

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "var" / "artifacts"
XSS = "<img src=x onerror=alert(1)>"
T = TypeVar("T")


@pytest.fixture()
def browser_page(gateway_url: str) -> Iterator[Any]:
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1500, "height": 1000}, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(10_000)
        try:
            yield page
        finally:
            context.close()


def test_console_end_to_end(gateway_url: str, redis_url: str, redis_client: redis.Redis, browser_page: Any) -> None:
    page = browser_page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    run_records(redis_url, lambda c: staff_users.create_user(c, "liu-gong", PASSWORD, "刘工"))

    # An anonymous visit gets the login form.
    page.goto(f"{gateway_url}/staff")
    page.wait_for_selector("#login-form", state="visible")
    assert page.locator("#console-view").is_hidden()
    page.fill("#login-user", "liu-gong")
    page.fill("#login-pass", "wrong password")
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#login-error:has-text('用户名或密码不对')")
    page.screenshot(path=str(ARTIFACTS / "staff-login.png"))

    page.fill("#login-pass", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#console-view", state="visible")
    page.wait_for_selector("#live:has-text('实时更新中')")
    assert page.locator("#who-name").inner_text().startswith("刘工")
    page.wait_for_selector("#waiting-list li.none")

    # A new ticket, written to Redis after the page loaded, appears without reload.
    ticket = run_records(
        redis_url, lambda c: new_ticket(c, "web-browser", priority=True, text=f"我七十多岁了，想办新生儿出生 {XSS}")
    )
    item = page.locator(f"#waiting-list li[data-ticket='{ticket.id}']")
    item.wait_for(state="visible")
    assert "绿色通道" in item.inner_text()
    assert "已等" in item.inner_text()
    page.wait_for_selector("#f-waiting:has-text('1人')")
    page.screenshot(path=str(ARTIFACTS / "staff-queue.png"))

    # Take it.
    item.click()
    page.wait_for_selector("#claim", state="visible")
    assert page.locator("#t-why").inner_text().endswith(XSS)
    page.click("#claim")
    page.wait_for_selector("#reply-form", state="visible")
    page.wait_for_selector(f"#claimed-list li[data-ticket='{ticket.id}']")
    assert run_records(redis_url, lambda c: get_ticket(c, ticket.id)).staff == "liu-gong"

    # Reply with a canned answer plus a line of our own; it reaches the person's inbox.
    page.click("#canned button:has-text('带身份证原件')")
    assert "身份证原件" in page.input_value("#reply-text")
    page.fill("#reply-text", "您好，我是刘工，请带身份证原件。")
    page.click("#reply-form button[type=submit]")
    page.wait_for_selector("#transcript li.staff:has-text('我是刘工')")
    inbox = run_records(redis_url, lambda c: read_inbox(c, "web-browser"))
    assert [m.text for m in inbox if m.sender == "staff"] == ["您好，我是刘工，请带身份证原件。"]

    # The person answers with HTML: it arrives live and is shown as text; nothing runs.
    run_records(redis_url, lambda c: add_citizen_message(c, ticket.id, f"我的回答 {XSS} 好的"))
    page.wait_for_selector("#transcript li.user:has-text('我的回答')")
    assert f"我的回答 {XSS} 好的" in page.locator("#transcript").inner_text()
    assert page.locator("#transcript img").count() == 0 and page.locator("img").count() == 0

    page.fill("#note-text", "老人家耳朵不太好，打字回复")
    page.click("#note-form button[type=submit]")
    page.wait_for_selector("#notes li:has-text('耳朵不太好')")
    page.screenshot(path=str(ARTIFACTS / "staff-ticket.png"), full_page=True)

    # Close: 办结, give it back to the assistant.
    page.select_option("#close-outcome", "done")
    page.fill("#close-note", "已说明所需材料")
    page.click("#close-form button[type=submit]")
    page.wait_for_selector("#t-status:has-text('已结束')")
    page.wait_for_selector(f"#closed-list li[data-ticket='{ticket.id}']")
    page.wait_for_selector("#f-handled:has-text('1件')")
    page.wait_for_selector("#f-rate:has-text('100%')")
    closed = run_records(redis_url, lambda c: get_ticket(c, ticket.id))
    assert closed.status == TicketStatus.closed and closed.outcome.value == "done" and closed.returned_to_bot is True
    assert page.locator("#chart").bounding_box()["height"] > 50
    page.screenshot(path=str(ARTIFACTS / "staff-closed.png"), full_page=True)

    page.wait_for_timeout(300)
    assert dialogs == []
    assert errors == []

    # Logging out brings the login back; a reload stays there.
    page.click("#logout")
    page.wait_for_selector("#login-form", state="visible")
    page.reload()
    page.wait_for_selector("#login-form", state="visible")
