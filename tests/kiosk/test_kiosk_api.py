"""The kiosk API, checklist links and their pages through the real gateway app (lifespan included) and
a real redis-server; Rasa and the action server are played by an httpx.MockTransport handler."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import redis

from bot.app import create_app
from bot.checklist_links import qr_svg
from bot.config import Settings
from bot.kiosk.session import session_key
from bot.messages import KIOSK_LEFT_NOTE
from knowledge.store import load_catalogue
from records import checklist_links, tickets
from records.client import async_client
from records.inbox import add_messages, inbox_key
from records.ticket_model import HandoffTicket, TicketStatus, TranscriptLine

CHECKLIST_TEXT = "【新生儿出生一件事】材料清单：\n1. 出生医学证明\n2. 父母身份证 <script>alert(1)</script>"


class RasaStandIn:
    """Answers the REST webhook and records the HTTP API calls (tracker events)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/health"):
            return httpx.Response(200, json={"status": "ok"})
        if path == "/webhooks/rest/webhook":
            body = json.loads(request.content)
            sender = body["sender"]
            if "清单" in body["message"]:
                card = {"checklist": {"codes": ["43PCN0009"], "title": "新生儿出生一件事", "text": CHECKLIST_TEXT}}
                return httpx.Response(200, json=[
                    {"recipient_id": sender, "text": CHECKLIST_TEXT},
                    {"recipient_id": sender, "custom": card},
                ])
            return httpx.Response(200, json=[{"recipient_id": sender, "text": "您好",
                                              "buttons": [{"title": "同意", "payload": "/affirm"}]}])
        if "/conversations/" in path:
            self.events.append((path, json.loads(request.content)))
            return httpx.Response(200, json={})
        return httpx.Response(404)


@pytest.fixture
def settings(redis_url: str, redis_client: redis.Redis) -> Settings:
    return Settings(
        redis_url=redis_url,
        rasa_url="http://rasa.test",
        action_server_url="http://actions.test/webhook",
        chat_timeout_seconds=3,
        knowledge_preload=False,
        handoff_live=False,
    )


@pytest.fixture
def rasa() -> RasaStandIn:
    return RasaStandIn()


@pytest.fixture
async def gateway(settings: Settings, rasa: RasaStandIn) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, transport=httpx.MockTransport(rasa))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://kiosk.test") as http:
            yield http


async def chat(gateway: httpx.AsyncClient, sender: str, message: str) -> list[dict[str, Any]]:
    resp = await gateway.post("/api/chat", json={"sender": sender, "message": message})
    assert resp.status_code == 200, resp.text
    return resp.json()


# --- checklist links -------------------------------------------------------------------------------


async def test_a_checklist_reply_gets_a_link_and_a_qr_code(gateway, redis_client):
    replies = await chat(gateway, "kiosk-test-1", "帮我列个清单")
    card = replies[1]["custom"]["checklist"]
    assert card["codes"] == ["43PCN0009"] and card["text"] == CHECKLIST_TEXT
    token = re.fullmatch(r"/c/([A-Za-z0-9_-]{22})", card["url"]).group(1)
    assert card["qr"] == f"/c/{token}/qr.svg"
    assert abs(card["expires_at"] - (time.time() + 7 * 86400)) < 60
    assert "public_url" not in card
    assert 7 * 86400 - 60 < redis_client.ttl(checklist_links.link_key(token)) <= 7 * 86400
    assert replies[0]["text"] == CHECKLIST_TEXT  # the text message is untouched

    page = await gateway.get(card["url"])
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "出生医学证明" in page.text and "新生儿出生一件事" in page.text
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"

    qr = await gateway.get(card["qr"])
    assert qr.status_code == 200 and qr.headers["content-type"] == "image/svg+xml"
    assert qr.content == qr_svg(f"http://kiosk.test/c/{token}")  # encodes the absolute URL
    css = await gateway.get("/c/static/checklist.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


async def test_an_expired_link_shows_nothing_of_the_checklist(gateway, redis_client):
    card = (await chat(gateway, "kiosk-test-2", "清单"))[1]["custom"]["checklist"]
    token = card["url"].rsplit("/", 1)[1]
    redis_client.pexpire(checklist_links.link_key(token), 1)
    await asyncio.sleep(0.05)
    page = await gateway.get(card["url"])
    assert page.status_code == 404
    assert "链接已过期" in page.text
    assert "出生医学证明" not in page.text and "新生儿出生" not in page.text
    qr = await gateway.get(card["qr"])
    assert qr.status_code == 404 and qr.json()["error"]["code"] == "not_found"
    for bad in ("/c/x", "/c/" + "A" * 22, "/c/%3Cscript%3E"):
        resp = await gateway.get(bad)
        assert resp.status_code == 404 and "链接已过期" in resp.text


async def test_public_base_url_and_link_days(settings, rasa, redis_client):
    custom = settings.model_copy(update={"public_base_url": "https://yjs.example.gov.cn", "checklist_link_days": 0.5})
    app = create_app(custom, transport=httpx.MockTransport(rasa))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://inside.test") as http:
            card = (await chat(http, "kiosk-test-3", "清单"))[1]["custom"]["checklist"]
            assert card["public_url"] == "https://yjs.example.gov.cn" + card["url"]
            token = card["url"].rsplit("/", 1)[1]
            assert 43200 - 60 < redis_client.ttl(checklist_links.link_key(token)) <= 43200
            qr = await http.get(card["qr"])
            assert qr.content == qr_svg(card["public_url"])


def test_bad_public_base_url_is_refused():
    from bot.config import SettingsError

    for bad in ("yjs.example.gov.cn", "ftp://x", "https://x/?a=1"):
        with pytest.raises(SettingsError, match="PUBLIC_BASE_URL"):
            Settings.from_env({"PUBLIC_BASE_URL": bad})
    assert Settings.from_env({"PUBLIC_BASE_URL": "https://x.cn/yjs/"}).public_base_url == "https://x.cn/yjs"


# --- the kiosk API ---------------------------------------------------------------------------------


async def test_the_page_and_its_files(gateway):
    page = await gateway.get("/kiosk")
    assert page.status_code == 200 and 'lang="zh-CN"' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    for src in re.findall(r'(?:src|href)="([^"]+)"', page.text):
        assert src.startswith("/kiosk/static/"), src  # nothing from another host
        assert (await gateway.get(src)).status_code == 200
    assert (await gateway.get("/kiosk/static/nope.js")).status_code == 404
    assert (await gateway.get("/kiosk/static/..%2Fapi.py")).status_code == 404


async def test_situations_come_from_the_catalogue(gateway):
    items = (await gateway.get("/api/kiosk/situations")).json()["situations"]
    catalogue = load_catalogue()
    assert len(items) >= 9
    labels = {i["label"] for i in items}
    assert {"生孩子", "退休", "家里老人过世", "农村建房", "开店开餐馆"} <= labels
    for item in items:
        assert item["title"] == catalogue[item["code"]].title
        assert item["message"] == f"我想办{item['title']}"


def test_unknown_codes_in_the_situations_file_are_left_out(tmp_path):
    from bot.kiosk.situations import load_situations

    path = tmp_path / "s.yml"
    path.write_text("situations:\n - {label: 生孩子, code: 43PCN0009}\n - {label: 乱写, code: NOPE}\n"
                    " - {label: '', code: 43PCN0013}\n - {label: 重复, code: 43PCN0009}\n - 7\n", encoding="utf-8")
    assert [s["code"] for s in load_situations(path, {"43PCN0009": "新生儿出生一件事", "43PCN0013": "退休"})] == ["43PCN0009"]
    assert load_situations(tmp_path / "missing.yml", {}) == []


async def test_config_defaults_and_bounded_overrides(gateway):
    assert (await gateway.get("/api/kiosk/config")).json() == {
        "idle_seconds": 120, "countdown_seconds": 20, "chat_max_chars": 4000
    }
    body = (await gateway.get("/api/kiosk/config", params={"idle": "5", "countdown": "3"})).json()
    assert (body["idle_seconds"], body["countdown_seconds"]) == (5, 3)
    for params, field in (({"idle": "1"}, "idle"), ({"idle": "abc"}, "idle"), ({"countdown": "9999"}, "countdown")):
        resp = await gateway.get("/api/kiosk/config", params=params)
        assert resp.status_code == 422 and resp.json()["error"]["field"] == field
        assert re.search(r"[\u4e00-\u9fff]", resp.json()["error"]["message"])


async def test_sessions_are_random_and_end_once(gateway, redis_client):
    senders = {(await gateway.post("/api/kiosk/session")).json()["sender"] for _ in range(20)}
    assert len(senders) == 20 and all(re.fullmatch(r"kiosk-[A-Za-z0-9_-]{22}", s) for s in senders)
    sender = senders.pop()
    assert redis_client.exists(session_key(sender))
    assert (await gateway.post("/api/kiosk/session/end", json={"sender": sender})).json() == {"ended": True, "handoff": None}
    assert not redis_client.exists(session_key(sender))
    assert (await gateway.post("/api/kiosk/session/end", json={"sender": sender})).json()["ended"] is False


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"sender": "web-1"}, 422, "invalid_value"),
        ({"sender": 5}, 422, "invalid_value"),
        ({}, 422, "missing_field"),
        ([1], 422, "invalid_body"),
    ],
)
async def test_session_end_refuses_bad_input(gateway, body, status, code):
    resp = await gateway.post("/api/kiosk/session/end", json=body)
    assert resp.status_code == status and resp.json()["error"]["code"] == code
    assert re.search(r"[\u4e00-\u9fff]", resp.json()["error"]["message"])
    resp = await gateway.post("/api/kiosk/session/end", content=b"{", headers={"content-type": "application/json"})
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "invalid_json"


async def test_ending_a_session_with_an_open_ticket_resumes_it_and_tells_staff(gateway, rasa, redis_url, redis_client):
    sender = (await gateway.post("/api/kiosk/session")).json()["sender"]
    rec = async_client(redis_url, max_connections=4)
    try:
        ticket = await tickets.create_ticket(rec, HandoffTicket(
            sender=sender, created_at=time.time(), consent=True, why="找工作人员",
            transcript=[TranscriptLine(role="user", text="找工作人员", ts=time.time())],
        ))
        await add_messages(rec, sender, [("system", "您前面还有 0 位", [])], ticket.id, time.time())
    finally:
        await rec.aclose()
    resp = await gateway.post("/api/kiosk/session/end", json={"sender": sender})
    assert resp.json() == {"ended": True, "handoff": "resumed"}
    stored = tickets.get_ticket_sync(redis_client, ticket.id)
    assert stored.status == TicketStatus.resumed and stored.resumed_reason == "asked"
    assert stored.transcript[-1].text == KIOSK_LEFT_NOTE
    assert tickets.ticket_for_sender_sync(redis_client, sender) is None  # Rasa was told: the link is gone
    assert not redis_client.exists(inbox_key(sender))  # nothing left to show
    told = [events for path, events in rasa.events if f"/conversations/{sender}/tracker/events" in path]
    assert told[0][0] == {"event": "resume"} and told[-1] == [{"event": "restart"}]
