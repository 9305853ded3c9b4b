"""The staff API against a real gateway process and a real Redis."""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from staff_helpers import PASSWORD, client_for, login, make_user, new_ticket

from bot.conversation import conversation_id
from records import appointments, staff_queue
from records.appointments import Slot
from records.case_model import Rating
from records.case_store import RATINGS_KEY, rating_key
from records.events import EVENTS_KEY
from records.inbox import read_inbox
from records.service_hours import ServiceSettings
from records.ticket_model import TicketStatus
from records.tickets import get_ticket

ROOT = Path(__file__).resolve().parents[2]
TICKET = "0123456789abcdef0123456789abcdef"
STAFF_ROUTES = [
    ("GET", "/api/staff/me"),
    ("POST", "/api/staff/logout"),
    ("POST", "/api/staff/heartbeat"),
    ("GET", "/api/staff/tickets?status=waiting"),
    ("GET", f"/api/staff/tickets/{TICKET}"),
    ("POST", f"/api/staff/tickets/{TICKET}/claim"),
    ("POST", f"/api/staff/tickets/{TICKET}/messages"),
    ("POST", f"/api/staff/tickets/{TICKET}/notes"),
    ("POST", f"/api/staff/tickets/{TICKET}/close"),
    ("GET", "/api/staff/appointments?date=2030-01-07"),
    ("POST", "/api/staff/appointments/ABC234/mark"),
    ("GET", "/api/staff/stats"),
    ("GET", "/api/staff/events"),
    ("GET", "/api/staff/canned"),
]


# --- login, sessions ---------------------------------------------------------------------------------


async def test_login_me_logout(gateway_url, rec):
    await make_user(rec, "zhangsan", "张三")
    async with client_for(gateway_url) as http:
        response = await http.post("/api/staff/login", json={"username": "zhangsan", "password": PASSWORD})
        assert response.status_code == 200
        body = response.json()
        assert body["username"] == "zhangsan" and body["display_name"] == "张三" and len(body["csrf_token"]) >= 32
        cookie = response.headers["set-cookie"]
        lowered = cookie.lower()
        assert "httponly" in lowered and "samesite=strict" in lowered and "path=/" in lowered
        assert "max-age=43200" in lowered and "secure" not in lowered
        session_id = cookie.split(";", 1)[0].split("=", 1)[1]
        assert len(session_id) >= 40
        assert not [k async for k in rec.scan_iter(f"*{session_id}*")]  # only its hash is stored

        me = await http.get("/api/staff/me")
        assert me.status_code == 200 and me.json() == body

        out = await http.post("/api/staff/logout", headers={"X-CSRF-Token": body["csrf_token"]})
        assert out.status_code == 200
        assert (await http.get("/api/staff/me")).status_code == 401
        http.cookies.set("yjs_staff_session", session_id)  # an old cookie replayed
        assert (await http.get("/api/staff/me")).status_code == 401


async def test_wrong_password_and_unknown_user_401(gateway_url, rec):
    await make_user(rec, "lisi")
    async with client_for(gateway_url) as http:
        for username, password in [("lisi", "wrong password"), ("nobody", PASSWORD), ("", "x")]:
            response = await http.post("/api/staff/login", json={"username": username, "password": password})
            if username == "":
                assert response.status_code == 422
                continue
            assert response.status_code == 401
            error = response.json()["error"]
            assert error["code"] == "bad_login" and "密码" in error["message"]
            assert "set-cookie" not in response.headers


async def test_login_attempts_limited(gateway_url, rec):
    await make_user(rec, "wangwu")
    async with client_for(gateway_url) as http:
        for _ in range(5):
            response = await http.post("/api/staff/login", json={"username": "wangwu", "password": "guess-guess"})
            assert response.status_code == 401
        locked = await http.post("/api/staff/login", json={"username": "wangwu", "password": PASSWORD})
        assert locked.status_code == 429
        assert 0 < int(locked.headers["retry-after"]) <= 15 * 60
        assert "分钟后再试" in locked.json()["error"]["message"]


async def test_session_lifetime_is_bounded_in_redis(gateway_url, rec):
    await make_user(rec, "zhaoliu")
    staff = await login(gateway_url, "zhaoliu")
    keys = [k async for k in rec.scan_iter("yjs:staff:session:*")]
    assert len(keys) == 1
    assert 43000 < await rec.ttl(keys[0]) <= 43200
    await rec.delete(keys[0])  # expired
    assert (await staff.get("/api/staff/me")).status_code == 401
    await staff.http.aclose()


async def test_deleted_account_loses_its_session(gateway_url, rec):
    from records import staff_users

    await make_user(rec, "gone-user")
    staff = await login(gateway_url, "gone-user")
    assert (await staff.get("/api/staff/me")).status_code == 200
    await staff_users.delete_user(rec, "gone-user")
    assert (await staff.get("/api/staff/me")).status_code == 401
    await staff.http.aclose()


# --- refusals ----------------------------------------------------------------------------------------


async def test_anonymous_gets_401_everywhere(gateway_url, rec):
    async with client_for(gateway_url) as http:
        for method, path in STAFF_ROUTES:
            response = await http.request(method, path, json={} if method == "POST" else None)
            assert response.status_code == 401, (method, path, response.text)
            assert response.json()["error"]["code"] == "not_logged_in"
        http.cookies.set("yjs_staff_session", "made-up")
        assert (await http.get("/api/staff/tickets")).status_code == 401


async def test_csrf_token_required_on_posts(gateway_url, rec):
    await make_user(rec, "csrf-user")
    staff = await login(gateway_url, "csrf-user")
    ticket = await new_ticket(rec)
    path = f"/api/staff/tickets/{ticket.id}/claim"
    missing = await staff.http.post(path, json={})
    assert missing.status_code == 403 and missing.json()["error"]["code"] == "csrf"
    wrong = await staff.http.post(path, json={}, headers={"X-CSRF-Token": "x" * 43})
    assert wrong.status_code == 403
    assert (await get_ticket(rec, ticket.id)).status == TicketStatus.waiting
    assert (await staff.post("/api/staff/logout", headers={"X-CSRF-Token": ""})).status_code == 403
    ok = await staff.post(path)
    assert ok.status_code == 200
    await staff.http.aclose()


async def test_cross_origin_requests_refused(gateway_url, rec):
    await make_user(rec, "origin-user")
    staff = await login(gateway_url, "origin-user")
    ticket = await new_ticket(rec)
    evil = {"Origin": "http://evil.example"}
    r = await staff.post(f"/api/staff/tickets/{ticket.id}/claim", headers=evil)
    assert r.status_code == 403 and r.json()["error"]["code"] == "cross_site"
    assert (await staff.get("/api/staff/tickets", headers={"Referer": "http://evil.example/x"})).status_code == 403
    assert (await staff.get("/api/staff/tickets", headers={"Origin": "null"})).status_code == 403
    async with client_for(gateway_url) as http:
        r = await http.post("/api/staff/login", json={"username": "origin-user", "password": PASSWORD}, headers=evil)
        assert r.status_code == 403
    same = {"Origin": gateway_url, "Referer": f"{gateway_url}/staff"}
    assert (await staff.post(f"/api/staff/tickets/{ticket.id}/claim", headers=same)).status_code == 200
    await staff.http.aclose()


# --- tickets -----------------------------------------------------------------------------------------


async def test_ticket_list_shape_and_queue_order(gateway_url, rec):
    await make_user(rec, "list-user")
    staff = await login(gateway_url, "list-user")
    now = time.time()
    first = await new_ticket(rec, "web-first", created_at=now - 300)
    second = await new_ticket(rec, conversation_id("张大爷"), created_at=now - 60, priority=True)  # encoded id
    third = await new_ticket(rec, "web-third", created_at=now - 30, consent=False)
    response = await staff.get("/api/staff/tickets", params={"status": "waiting"})
    assert response.status_code == 200
    tickets = response.json()["tickets"]
    assert [t["id"] for t in tickets] == [second.id, first.id, third.id]  # 绿色通道 first
    top = tickets[0]
    assert top["sender"] == "张大爷" and top["conversation"].startswith("~")
    assert top["priority"] is True and top["priority_reason"] == "老年人" and top["place"] == 1
    assert 55 <= top["wait_seconds"] <= 120
    assert top["matched_things"] == [{"code": "43PCN0009", "title": "新生儿出生一件事"}]
    assert top["current_thing"]["code"] == "43PCN0009"
    assert top["checklist"].startswith("1.") and top["conditions"] == ["新生儿在本县出生"]
    assert top["contact"] == "13800000000" and tickets[2]["contact"] is None
    assert top["transcript"][0]["role"] == "user" and top["why"]
    for key in ("channel", "created", "staff", "notes", "outcome", "status"):
        assert key in top
    assert (await staff.get("/api/staff/tickets", params={"status": "bogus"})).status_code == 422
    one = await staff.get(f"/api/staff/tickets/{first.id}")
    assert one.status_code == 200 and one.json()["ticket"]["place"] == 2
    assert (await staff.get(f"/api/staff/tickets/{'f' * 32}")).status_code == 404
    await staff.http.aclose()


async def test_claim_race_exactly_one_wins(gateway_url, rec):
    await make_user(rec, "racer-a")
    await make_user(rec, "racer-b")
    a = await login(gateway_url, "racer-a")
    b = await login(gateway_url, "racer-b")
    tickets = [await new_ticket(rec, f"race-{i}") for i in range(10)]
    for ticket in tickets:
        path = f"/api/staff/tickets/{ticket.id}/claim"
        ra, rb = await asyncio.gather(a.post(path), b.post(path))
        assert sorted([ra.status_code, rb.status_code]) == [200, 409], (ra.text, rb.text)
        loser = ra if ra.status_code == 409 else rb
        assert loser.json()["error"]["code"] == "conflict"
        winner = "racer-a" if ra.status_code == 200 else "racer-b"
        assert (await get_ticket(rec, ticket.id)).staff == winner
    claimed = (await a.get("/api/staff/tickets", params={"status": "claimed"})).json()["tickets"]
    assert {t["id"] for t in claimed} == {t.id for t in tickets}
    assert (await a.post(f"/api/staff/tickets/{'e' * 32}/claim")).status_code == 404
    await a.http.aclose()
    await b.http.aclose()


async def test_messages_only_by_the_claimer_and_reach_the_inbox(gateway_url, rec):
    await make_user(rec, "owner")
    await make_user(rec, "other")
    owner = await login(gateway_url, "owner")
    other = await login(gateway_url, "other")
    ticket = await new_ticket(rec, "web-msg")
    path = f"/api/staff/tickets/{ticket.id}/messages"
    assert (await owner.post(path, {"text": "您好"})).status_code == 409  # not claimed yet
    assert (await owner.post(f"/api/staff/tickets/{ticket.id}/claim")).status_code == 200
    refused = await other.post(path, {"text": "我来回答"})
    assert refused.status_code == 409
    assert (await owner.post(path, {"text": "   "})).status_code == 422
    assert (await owner.post(path, {"text": "好" * 1001})).status_code == 422
    assert (await owner.post(path, {})).status_code == 422
    assert (await owner.post(path, {"text": 5})).status_code == 422
    sent = await owner.post(path, {"text": "您好，请带身份证原件。"})
    assert sent.status_code == 200 and sent.json()["inbox_id"]
    assert sent.json()["ticket"]["transcript"][-1]["role"] == "staff"
    inbox = await read_inbox(rec, "web-msg")
    assert [m.text for m in inbox if m.sender == "staff"] == ["您好，请带身份证原件。"]
    assert (await owner.post(path, {"text": "好" * 1000})).status_code == 200
    await owner.http.aclose()
    await other.http.aclose()


async def test_notes_are_private(gateway_url, rec):
    await make_user(rec, "noter")
    staff = await login(gateway_url, "noter")
    ticket = await new_ticket(rec, "web-note")
    r = await staff.post(f"/api/staff/tickets/{ticket.id}/notes", {"text": "秘密备注：老人耳背，要大声说"})
    assert r.status_code == 200 and r.json()["ticket"]["notes"][0]["text"].startswith("秘密备注")
    assert not [m for m in await read_inbox(rec, "web-note") if "秘密" in m.text]
    entries = await rec.xrange(EVENTS_KEY)
    assert entries and all("秘密" not in json.dumps(fields, ensure_ascii=False) for _, fields in entries)
    await staff.http.aclose()


async def test_close_outcomes(gateway_url, rec):
    await make_user(rec, "closer")
    await make_user(rec, "bystander")
    staff = await login(gateway_url, "closer")
    bystander = await login(gateway_url, "bystander")
    outcomes = ["done", "offline_window", "booked", "cannot_do"]
    for i, outcome in enumerate(outcomes):
        ticket = await new_ticket(rec, f"web-close-{i}")
        path = f"/api/staff/tickets/{ticket.id}/close"
        assert (await staff.post(path, {"outcome": outcome})).status_code == 409  # not claimed
        assert (await staff.post(f"/api/staff/tickets/{ticket.id}/claim")).status_code == 200
        assert (await staff.post(path, {"outcome": "finished"})).status_code == 422
        assert (await staff.post(path, {"outcome": outcome, "return_to_bot": "yes"})).status_code == 422
        assert (await bystander.post(path, {"outcome": outcome})).status_code == 409
        r = await staff.post(path, {"outcome": outcome, "note": f"说明{i}", "return_to_bot": i % 2 == 0})
        assert r.status_code == 200, r.text
        view = r.json()["ticket"]
        assert view["status"] == "closed" and view["outcome"] == outcome and view["staff_note"] == f"说明{i}"
        assert view["returned_to_bot"] is (i % 2 == 0)
        stored = await get_ticket(rec, ticket.id)
        assert stored.status == TicketStatus.closed and stored.outcome.value == outcome
    closed = (await staff.get("/api/staff/tickets", params={"status": "closed"})).json()["tickets"]
    assert sorted(t["outcome"] for t in closed) == sorted(outcomes)
    await staff.http.aclose()
    await bystander.http.aclose()


async def test_heartbeat_requeues_an_abandoned_claim(gateway_url, rec):
    await make_user(rec, "keeper")
    ticket = await new_ticket(rec, "web-abandoned", created_at=time.time() - 1000)
    await staff_queue.claim(rec, ticket.id, "ghost", now=time.time() - 500)  # ghost never came back
    staff = await login(gateway_url, "keeper")
    r = await staff.post("/api/staff/heartbeat")
    assert r.status_code == 200 and r.json()["requeued"] == [ticket.id]
    assert (await get_ticket(rec, ticket.id)).status == TicketStatus.waiting
    assert await rec.zscore("yjs:handoff:staff_seen", "keeper") is not None
    await staff.http.aclose()


# --- appointments, figures, canned replies ------------------------------------------------------------


async def test_appointments_list_and_mark(gateway_url, rec):
    await make_user(rec, "window")
    staff = await login(gateway_url, "window")
    service = ServiceSettings()
    day = date(2030, 1, 5)  # a Saturday
    early = datetime(2030, 1, 4, 8, 0, tzinfo=service.tz).timestamp()
    pm = await appointments.book(rec, Slot(date=day, period="pm"), "web-appt-1", thing_title="退休一件事", now=early, settings=service)
    am = await appointments.book(rec, Slot(date=day, period="am"), "web-appt-2", thing_title="新生儿出生一件事", now=early, settings=service)
    r = await staff.get("/api/staff/appointments", params={"date": "2030-01-05"})
    assert r.status_code == 200
    listed = r.json()["appointments"]
    assert [a["code"] for a in listed] == [am.code, pm.code]  # morning first
    assert listed[0]["period_label"] == "上午" and listed[0]["status"] == "booked" and listed[0]["thing_title"] == "新生儿出生一件事"
    marked = await staff.post(f"/api/staff/appointments/{am.code}/mark", {"status": "attended"})
    assert marked.status_code == 200 and marked.json()["appointment"]["status"] == "attended"
    assert marked.json()["appointment"]["marked_by"] == "window"
    assert (await staff.post(f"/api/staff/appointments/{pm.code.lower()}/mark", {"status": "no_show"})).status_code == 200
    assert (await staff.post(f"/api/staff/appointments/{pm.code}/mark", {"status": "cancelled"})).status_code == 422
    assert (await staff.post("/api/staff/appointments/ZZZZZZ/mark", {"status": "attended"})).status_code == 404
    assert (await staff.get("/api/staff/appointments", params={"date": "5.1.2030"})).status_code == 422
    statuses = [a["status"] for a in (await staff.get("/api/staff/appointments", params={"date": "2030-01-05"})).json()["appointments"]]
    assert statuses == ["attended", "no_show"]
    await staff.http.aclose()


async def test_stats_on_known_data(gateway_url, rec):
    await make_user(rec, "counter")
    staff = await login(gateway_url, "counter")
    service = ServiceSettings()
    at = lambda h, m=0: datetime(2030, 1, 7, h, m, tzinfo=service.tz).timestamp()  # noqa: E731
    # Four tickets taken that day: waits of 60, 120, 180 and 240 s; three closed (2 done, 1 offline).
    specs = [(9, 0, 60, "done"), (9, 30, 120, "done"), (10, 0, 180, "offline_window"), (14, 0, 240, None)]
    for i, (h, m, wait, outcome) in enumerate(specs):
        t = await new_ticket(rec, f"web-stat-{i}", created_at=at(h, m))
        await staff_queue.claim(rec, t.id, "counter", now=at(h, m) + wait)
        if outcome:
            await staff_queue.close(rec, t.id, "counter", outcome, now=at(h, m) + wait + 600)
    yesterday = await new_ticket(rec, "web-stat-old", created_at=at(9) - 86400)  # another day: not counted
    await staff_queue.claim(rec, yesterday.id, "counter", now=at(9) - 86400 + 30)
    await staff_queue.close(rec, yesterday.id, "counter", "done", now=at(9) - 86400 + 60)
    await new_ticket(rec, "web-stat-waiting", priority=True)  # waiting now
    ratings = [(5, at(11), "staff"), (4, at(15), "assistant"), (2, at(16), "staff"), (1, at(9) - 86400, "staff")]
    for i, (level, ts, served_by) in enumerate(ratings):
        rating = Rating(id=f"PJ9{i:05d}", created_at=ts, level=level, label=str(level), sender=f"web-r{i}",
                        served_by=served_by)
        await rec.set(rating_key(rating.id), rating.model_dump_json())
        await rec.zadd(RATINGS_KEY, {rating.id: ts})

    r = await staff.get("/api/staff/stats", params={"date": "2030-01-07"})
    assert r.status_code == 200
    s = r.json()
    assert s["date"] == "2030-01-07"
    assert s["waiting_now"] == 1 and s["priority_waiting_now"] == 1
    assert s["claimed"] == 4 and s["average_wait_seconds"] == 150
    assert s["handled"] == 3 and s["done"] == 2 and s["done_rate"] == pytest.approx(2 / 3, abs=1e-3)
    assert s["outcomes"] == {"done": 2, "offline_window": 1, "booked": 0, "cannot_do": 0}
    assert s["satisfaction"] == {"count": 3, "average": pytest.approx(3.67, abs=0.01), "satisfied": 2}
    assert s["staff_satisfaction"] == {"count": 2, "average": 3.5, "satisfied": 1}
    hourly = {h["hour"]: h for h in s["hourly"]}
    assert len(s["hourly"]) == 24
    assert hourly[9]["created"] == 2 and hourly[10]["created"] == 1 and hourly[14]["created"] == 1
    assert hourly[9]["closed"] == 2 and hourly[10]["closed"] == 1 and hourly[14]["closed"] == 0
    assert hourly[9]["claimed"] == 2 and hourly[14]["claimed"] == 1
    empty = (await staff.get("/api/staff/stats", params={"date": "2030-01-20"})).json()
    assert empty["handled"] == 0 and empty["done_rate"] is None and empty["average_wait_seconds"] is None
    today = (await staff.get("/api/staff/stats")).json()
    assert today["date"] == datetime.now(service.tz).date().isoformat()
    assert (await staff.get("/api/staff/stats", params={"date": "tomorrow"})).status_code == 422
    await staff.http.aclose()


async def test_canned_replies(gateway_url, rec):
    await make_user(rec, "canned")
    staff = await login(gateway_url, "canned")
    replies = (await staff.get("/api/staff/canned")).json()["replies"]
    assert len(replies) >= 8
    texts = " ".join(r["text"] for r in replies)
    assert "12345" in texts and "身份证原件" in texts and "9:00" in texts
    await staff.http.aclose()


# --- live events -------------------------------------------------------------------------------------


async def test_events_stream_delivers_a_new_ticket(gateway_url, rec):
    await make_user(rec, "watcher")
    staff = await login(gateway_url, "watcher")
    async with staff.http.stream("GET", "/api/staff/events") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.aiter_lines()

        async def next_data() -> dict:
            async for line in lines:
                if line.startswith("data: "):
                    return json.loads(line[len("data: "):])
            raise AssertionError("stream ended")

        async for line in lines:  # the stream is open once its first comment arrives
            if line.startswith(": connected"):
                break
        ticket = await new_ticket(rec, "web-live", priority=True)
        data = await asyncio.wait_for(next_data(), timeout=10)
        assert data["kind"] == "created" and data["ticket_id"] == ticket.id
        assert data["priority"] is True and data["sender"] == "web-live"
        await staff_queue.add_note(rec, ticket.id, "watcher", "不给群众看的备注")
        data = await asyncio.wait_for(next_data(), timeout=10)
        assert data["kind"] == "note" and "text" not in data
    await staff.http.aclose()


async def test_events_resume_after_last_event_id(gateway_url, rec):
    await make_user(rec, "resumer")
    staff = await login(gateway_url, "resumer")
    first = await new_ticket(rec, "web-ev-1")
    entries = await rec.xrange(EVENTS_KEY)
    last_id = entries[-1][0]
    second = await new_ticket(rec, "web-ev-2")
    async with staff.http.stream("GET", "/api/staff/events", headers={"Last-Event-ID": last_id}) as response:
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                data = json.loads(line[6:])
                assert data["ticket_id"] == second.id != first.id
                break
    await staff.http.aclose()


# --- the page ----------------------------------------------------------------------------------------


async def test_console_page_and_files(gateway_url):
    async with client_for(gateway_url) as http:
        page = await http.get("/staff")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert "帮代办工作台" in page.text and "http" not in page.text.replace("http-equiv", "")
        js = await http.get("/staff/static/staff.js")
        assert js.status_code == 200 and "textContent" in js.text and "innerHTML =" not in js.text
        chart = await http.get("/staff/static/vendor/chart.umd.min.js")
        assert chart.status_code == 200 and "Chart.js v4" in chart.text[:200]
        assert (await http.get("/staff/static/../api.py")).status_code == 404
        assert (await http.get("/staff/static/nothing.js")).status_code == 404


def test_day_bounds_follow_the_county_clock():
    from bot.staff.stats import day_bounds

    start, end = day_bounds(date(2030, 1, 7), ServiceSettings())
    assert end - start == 86400
    assert datetime.fromtimestamp(start, ServiceSettings().tz).hour == 0
    assert timedelta(seconds=end - start) == timedelta(days=1)


async def test_make_staff_user_then_login(gateway_url, redis_url, rec):
    root = ROOT
    env = {**os.environ, "REDIS_URL": redis_url}
    make = await asyncio.create_subprocess_exec(
        "make", "-s", "staff-user", "USER=maker-01", "STAFF_NAME=王五",
        cwd=root, env=env, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(make.communicate(b"a long enough secret\n"), timeout=60)
    assert make.returncode == 0, err.decode()
    assert "Created staff user maker-01" in out.decode()
    staff = await login(gateway_url, "maker-01", "a long enough secret")
    assert staff.me["display_name"] == "王五"
    await staff.http.aclose()
    no_user = await asyncio.create_subprocess_exec(
        "make", "-s", "staff-user", cwd=root, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    _, err = await no_user.communicate()
    assert no_user.returncode != 0 and "USER=name" in err.decode()


async def test_events_stream_stops_when_the_client_goes(gateway_url, rec):
    await make_user(rec, "leaver")
    staff = await login(gateway_url, "leaver")

    async def blocked_readers() -> int:
        clients = await rec.client_list()
        return sum(1 for c in clients if "b" in c.get("flags", ""))  # blocked in XREAD

    baseline = await blocked_readers()  # the gateway's own live reader (bot.handoff) blocks too
    async with staff.http.stream("GET", "/api/staff/events") as response:
        lines = response.aiter_lines()  # kept: a dropped line iterator closes the response
        async for line in lines:
            if line.startswith(": connected"):
                break
        for _ in range(40):
            if await blocked_readers() == baseline + 1:
                break
            await asyncio.sleep(0.1)
        assert await blocked_readers() == baseline + 1
    await staff.http.aclose()
    for _ in range(100):  # the server notices within one XREAD BLOCK (3 s)
        if await blocked_readers() == baseline:
            break
        await asyncio.sleep(0.1)
    assert await blocked_readers() == baseline
    anonymous = await client_for(gateway_url).get("/api/staff/events")
    assert anonymous.status_code == 401


def test_secure_cookie_and_session_hours_settings(redis_url, redis_client):
    from fastapi.testclient import TestClient

    from bot.app import create_app
    from bot.config import Settings

    asyncio.run(_create_user(redis_url, "https-user"))
    settings = Settings.from_env(
        {"REDIS_URL": redis_url, "KNOWLEDGE_PRELOAD": "0", "STAFF_COOKIE_SECURE": "1", "STAFF_SESSION_HOURS": "2"}
    )
    with TestClient(create_app(settings), base_url="https://testserver") as http:
        response = http.post("/api/staff/login", json={"username": "https-user", "password": PASSWORD})
        assert response.status_code == 200
        cookie = response.headers["set-cookie"].lower()
        assert "; secure" in cookie and "max-age=7200" in cookie and "samesite=strict" in cookie
        assert http.get("/api/staff/me").status_code == 200


async def _create_user(redis_url: str, name: str) -> None:
    from records.client import async_client

    client = async_client(redis_url, max_connections=2)
    try:
        await make_user(client, name)
    finally:
        await client.aclose()
