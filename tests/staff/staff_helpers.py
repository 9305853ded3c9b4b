"""Helpers of the staff tests: staff users, logged-in clients, tickets."""

from __future__ import annotations

import time

import httpx
import redis.asyncio

from records import staff_users
from records.ticket_model import HandoffTicket, MatchedThing, TranscriptLine
from records.tickets import create_ticket

PASSWORD = "correct horse battery"


async def make_user(rec: redis.asyncio.Redis, name: str, display: str | None = None) -> str:
    await staff_users.create_user(rec, name, PASSWORD, display or name)
    return name


class Staff:
    """A logged-in staff client: cookie jar plus the CSRF header on every request."""

    def __init__(self, http: httpx.AsyncClient, me: dict) -> None:
        self.http = http
        self.me = me

    @property
    def csrf(self) -> dict[str, str]:
        return {"X-CSRF-Token": self.me["csrf_token"]}

    async def get(self, path: str, **kw) -> httpx.Response:
        return await self.http.get(path, **kw)

    async def post(self, path: str, json: dict | None = None, **kw) -> httpx.Response:
        headers = {**self.csrf, **kw.pop("headers", {})}
        return await self.http.post(path, json=json if json is not None else {}, headers=headers, **kw)


def client_for(base: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base, trust_env=False, timeout=15.0)


async def login(base: str, username: str, password: str = PASSWORD) -> Staff:
    http = client_for(base)
    response = await http.post("/api/staff/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return Staff(http, response.json())


async def new_ticket(
    rec: redis.asyncio.Redis,
    sender: str = "web-1",
    *,
    priority: bool = False,
    created_at: float | None = None,
    consent: bool = True,
    contact: str | None = "13800000000",
    text: str = "我想办新生儿出生一件事",
) -> HandoffTicket:
    created = time.time() if created_at is None else created_at
    thing = MatchedThing(code="43PCN0009", title="新生儿出生一件事")
    ticket = HandoffTicket(
        sender=sender,
        created_at=created,
        priority=priority,
        priority_reason="老年人" if priority else None,
        consent=consent,
        why=text,
        matched_things=[thing],
        current_thing=thing,
        checklist="1. 出生医学证明\n2. 父母身份证",
        conditions=["新生儿在本县出生"],
        transcript=[TranscriptLine(role="user", text=text, ts=created), TranscriptLine(role="bot", text="好的", ts=created)],
        contact=contact if consent else None,
    )
    return await create_ticket(rec, ticket, now=created)
