"""The kiosk page in a real headless Chromium (Debian's, driven by Playwright) against the real stack:
tap a situation, ask for the checklist and answer its questions, see the card, print preview shows the
card only, open the QR code's URL, an expired URL shows nothing; 找工作人员 -> consent -> the queue
place shows and a staff message arrives live; the idle countdown (a touch cancels it) wipes the
screen, the browser storage and the session, and a new sender id is used; the accessibility check
(axe-core) finds no serious or critical violation. Screenshots: var/artifacts/kiosk/."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import redis
from browser_helpers import chromium, run_records

from bot.checklist_links import qr_svg
from bot.kiosk.session import session_key
from bot.messages import KIOSK_LEFT_NOTE
from records import checklist_links, staff_queue, tickets
from records.ticket_model import TicketStatus

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "var" / "artifacts" / "kiosk"
T = TypeVar("T")


@pytest.fixture(scope="module")
def browser(stack) -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1080, "height": 1920}, locale="zh-CN", has_touch=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        yield page
    finally:
        context.close()
    assert not errors, errors


def open_kiosk(page: Any, url: str, query: str = "") -> str:
    page.goto(f"{url}/kiosk{query}")
    page.wait_for_selector("body[data-ready='1']")
    return page.evaluate("document.body.dataset.sender")


def last_bot_text(page: Any) -> str:
    return page.locator("#log li.msg.bot").last.inner_text()


def send_and_wait(page: Any, action: Callable[[], None]) -> None:
    """Do ``action`` (a tap or a typed message) and wait until the assistant has answered."""
    before = page.locator("#log li").count()
    action()
    page.wait_for_function(
        "n => document.querySelectorAll('#log li').length > n && document.getElementById('busy').hidden",
        arg=before + 1,
    )


def axe_check(page: Any, name: str) -> list[dict[str, Any]]:
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page)
    violations = result.response["violations"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"axe-{name}.json").write_text(json.dumps(violations, ensure_ascii=False, indent=1), encoding="utf-8")
    bad = [(v["id"], v["impact"], len(v["nodes"])) for v in violations if v["impact"] in ("serious", "critical")]
    assert not bad, bad
    return violations


def test_checklist_card_print_qr_link_and_expiry(stack, page, app_redis: redis.Redis) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    url = stack.config.gateway_url
    open_kiosk(page, url)
    situations = page.locator("#situations button.situation")
    assert situations.count() >= 9
    for button in situations.all():  # touch targets of at least 48 px
        assert button.bounding_box()["height"] >= 48
    page.screenshot(path=str(ARTIFACTS / "start.png"))
    axe_check(page, "start")

    # Font-size switch.
    page.click(".font-btn[data-font='xl']")
    assert page.evaluate("document.documentElement.classList.contains('font-xl')")
    assert page.get_attribute(".font-btn[data-font='xl']", "aria-pressed") == "true"
    page.click(".font-btn[data-font='m']")

    send_and_wait(page, lambda: page.click("#situations button[data-code='43PCN0009']"))
    assert "新生儿出生" in last_bot_text(page), last_bot_text(page)

    send_and_wait(page, lambda: (page.fill("#message", "帮我列个清单"), page.click("#composer button[type=submit]")))
    for _ in range(6):  # answer the questions with buttons: skip each
        if page.locator("#log .card.checklist").count():
            break
        skip = page.locator("#quick button", has_text="跳过")
        assert skip.count(), page.locator("#log").inner_text()
        send_and_wait(page, skip.first.click)
    card = page.locator("#log .card.checklist").last
    card.wait_for(state="visible")
    assert "新生儿出生" in card.locator("h2").inner_text()
    assert card.locator(".lines li").count() >= 2
    img = card.locator(".qr img")
    page.wait_for_function("() => document.querySelector('#log .card.checklist .qr img').naturalWidth > 0")
    qr_path = img.get_attribute("src")
    link = card.locator(".link").get_attribute("data-url")
    assert link.startswith(f"{url}/c/") and qr_path == link[len(url):] + "/qr.svg"
    page.screenshot(path=str(ARTIFACTS / "checklist-card.png"))
    axe_check(page, "checklist")

    # The QR code encodes the very URL the page shows.
    with httpx.Client(trust_env=False, timeout=30) as http:
        assert http.get(url + qr_path).content == qr_svg(link)

    # Print preview: only the card (with its QR code) is visible.
    page.emulate_media(media="print")
    assert page.locator("#print-area .card.checklist").is_visible()
    assert page.locator("#print-area .qr img").is_visible()
    assert not page.locator("#print-area .print-buttons").is_visible()
    for hidden in ("#app", ".top", "#log", "#composer", "#situations"):
        assert not page.locator(hidden).first.is_visible(), hidden
    page.screenshot(path=str(ARTIFACTS / "print-a4.png"), full_page=True)
    page.emulate_media(media="screen")
    page.evaluate("document.getElementById('print-area').classList.add('receipt')")
    page.emulate_media(media="print")
    assert page.locator("#print-area").evaluate("e => getComputedStyle(e).page") == "receipt"
    page.screenshot(path=str(ARTIFACTS / "print-receipt.png"), full_page=True)
    page.emulate_media(media="screen")

    # The phone page behind the QR code.
    phone = page.context.new_page()
    phone.set_viewport_size({"width": 390, "height": 844})
    response = phone.goto(link)
    assert response.status == 200
    assert "新生儿出生" in phone.locator("h1").inner_text()
    first_line = card.locator(".lines li").first.inner_text()
    assert first_line in phone.locator(".lines").inner_text()
    phone.screenshot(path=str(ARTIFACTS / "phone-checklist.png"), full_page=True)
    axe_check(phone, "phone")

    # Expired: the record is gone and the page shows nothing of the checklist.
    token = link.rsplit("/", 1)[1]
    app_redis.pexpire(checklist_links.link_key(token), 1)
    time.sleep(0.05)
    response = phone.goto(link)
    assert response.status == 404
    body = phone.locator("body").inner_text()
    assert "链接已过期" in body and first_line not in body and "新生儿出生" not in body
    phone.screenshot(path=str(ARTIFACTS / "phone-expired.png"))
    phone.close()


def test_ask_for_staff_queue_place_and_a_live_staff_message(stack, page, app_redis: redis.Redis) -> None:
    url = stack.config.gateway_url
    sender = open_kiosk(page, url)
    send_and_wait(page, lambda: page.click("#situations button[data-code='43PCN0013']"))
    send_and_wait(page, lambda: page.click("#human"))
    consent = page.locator("#quick button", has_text="同意").first
    assert consent.count(), page.locator("#log").inner_text()
    send_and_wait(page, lambda: consent.click())
    assert "工作人员" in last_bot_text(page)
    ticket = tickets.ticket_for_sender_sync(app_redis, sender)
    assert ticket is not None and ticket.status == TicketStatus.waiting
    assert ticket.channel == "kiosk"  # staff see where the person is

    # The queue place shows (from the reply or pushed by the events stream).
    status = page.locator("#queue-status")
    status.wait_for(state="visible")
    assert "前面还有" in status.inner_text() or "下一位" in status.inner_text(), status.inner_text()
    page.screenshot(path=str(ARTIFACTS / "handoff-waiting.png"))

    redis_url = stack.config.redis_url
    run_records(redis_url, lambda c: staff_queue.claim(c, ticket.id, "kiosk-staff"))
    started = time.monotonic()
    run_records(redis_url, lambda c: staff_queue.add_staff_message(c, ticket.id, "kiosk-staff", "您好，我是帮代办的小李，马上来帮您。"))
    page.wait_for_selector("#log li.msg.staff:has-text('我是帮代办的小李')", timeout=10_000)
    print(f"\nstaff message on the kiosk screen {time.monotonic() - started:.2f}s after it was sent")
    page.screenshot(path=str(ARTIFACTS / "handoff-staff-message.png"))
    axe_check(page, "handoff")

    # The person leaves (重新开始): the ticket is given back politely, staff see why.
    page.click("#restart")
    page.wait_for_function("s => document.body.dataset.sender && document.body.dataset.sender !== s", arg=sender)
    deadline = time.monotonic() + 10
    while tickets.get_ticket_sync(app_redis, ticket.id).status != TicketStatus.resumed and time.monotonic() < deadline:
        time.sleep(0.1)
    stored = tickets.get_ticket_sync(app_redis, ticket.id)
    assert stored.status == TicketStatus.resumed
    assert stored.transcript[-1].text == KIOSK_LEFT_NOTE
    assert page.locator("#log li").count() == 0 and page.locator("#queue-status").is_hidden()


def test_idle_countdown_wipes_screen_storage_and_session(stack, page, app_redis: redis.Redis) -> None:
    url = stack.config.gateway_url
    sender = open_kiosk(page, url, "?idle=5&countdown=3")
    assert page.evaluate("sessionStorage.getItem('kiosk.sender')") == sender
    send_and_wait(page, lambda: page.click("#situations button[data-code='43PCN0009']"))
    page.evaluate("localStorage.setItem('left-behind', '1'); sessionStorage.setItem('left-behind', '1')")

    # A touch during the countdown cancels it.
    page.locator("#idle").wait_for(state="visible", timeout=10_000)
    assert page.locator("#idle-count").inner_text() in ("3", "2", "1")
    page.screenshot(path=str(ARTIFACTS / "idle-countdown.png"))
    page.click("#idle-stay")
    assert page.locator("#idle").is_hidden()
    assert page.evaluate("document.body.dataset.sender") == sender
    assert page.locator("#log li").count() >= 2

    # Left alone: the countdown runs out and everything is wiped.
    page.locator("#idle").wait_for(state="visible", timeout=10_000)
    page.wait_for_function(
        "s => document.body.dataset.sender && document.body.dataset.sender !== s", arg=sender, timeout=10_000
    )
    new_sender = page.evaluate("document.body.dataset.sender")
    assert new_sender.startswith("kiosk-") and new_sender != sender
    assert page.locator("#log li").count() == 0 and page.locator("#quick button").count() == 0
    assert page.locator("#idle").is_hidden()
    assert page.evaluate("localStorage.length") == 0
    assert page.evaluate("[sessionStorage.length, sessionStorage.getItem('kiosk.sender')]") == [1, new_sender]
    deadline = time.monotonic() + 5
    while app_redis.exists(session_key(sender)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not app_redis.exists(session_key(sender))  # the server ended the old session
    assert app_redis.exists(session_key(new_sender))
    page.screenshot(path=str(ARTIFACTS / "after-wipe.png"))
