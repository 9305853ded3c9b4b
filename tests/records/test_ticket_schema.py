"""Tickets written before the staff side (schema 1 without its fields) still load; new ones round-trip."""

from __future__ import annotations

import json

from records import staff_queue, tickets
from records.ticket_model import (
    OUTCOME_LABELS,
    CloseOutcome,
    HandoffTicket,
    StaffNote,
    TicketStatus,
    TranscriptLine,
)

OLD_TICKET = {
    "schema_version": 1,
    "id": "3f0c0000000000000000000000000001",
    "created_at": 1795680000.5,
    "updated_at": None,
    "status": "waiting",
    "resumed_reason": None,
    "channel": "rest",
    "sender": "web-42",
    "priority": True,
    "priority_reason": "老年人",
    "consent": True,
    "why": "我搞不清，帮我找个工作人员",
    "matched_things": [{"code": "43PCN0013", "title": "退休“一件事”"}],
    "current_thing": {"code": "43PCN0013", "title": "退休“一件事”"},
    "checklist": "【退休“一件事”】材料清单\n…",
    "conditions": ["…"],
    "transcript": [
        {"role": "user", "text": "我老倌子明年满60岁，要办退休手续", "ts": 1795679950.1},
        {"role": "bot", "text": "您要办的是：…", "ts": 1795679950.9},
    ],
    "contact": "13907391234",
}


async def test_schema_1_ticket_without_staff_fields_loads_and_can_be_claimed(aclient, redis_client):
    redis_client.set(tickets.ticket_key(OLD_TICKET["id"]), json.dumps(OLD_TICKET, ensure_ascii=False))
    redis_client.zadd(tickets.QUEUE_KEY, {OLD_TICKET["id"]: OLD_TICKET["created_at"] - 1e10})
    old = tickets.get_ticket_sync(redis_client, OLD_TICKET["id"])
    assert old.staff is None and old.notes == [] and old.outcome is None and old.returned_to_bot is None
    assert not old.resume_pending and old.transcript[0].staff is None


    claimed = await staff_queue.claim(aclient, old.id, "zhang")
    assert claimed.status == TicketStatus.picked_up
    stored = json.loads(redis_client.get(tickets.ticket_key(old.id)))
    assert stored["schema_version"] == 1 and stored["staff"] == "zhang"
    changed = ("status", "updated_at", "transcript")
    assert {k: stored[k] for k in OLD_TICKET if k not in changed} == {
        k: v for k, v in OLD_TICKET.items() if k not in changed
    }
    assert [{k: line[k] for k in ("role", "text", "ts")} for line in stored["transcript"]] == OLD_TICKET["transcript"]


def test_new_fields_round_trip():
    ticket = HandoffTicket(
        sender="s",
        status=TicketStatus.closed,
        staff="zhang",
        claimed_at=1.0,
        closed_at=2.0,
        outcome=CloseOutcome.offline_window,
        staff_note="请到3号窗口",
        notes=[StaffNote(staff="zhang", text="已电话联系", ts=1.5)],
        returned_to_bot=True,
        transcript=[TranscriptLine(role="staff", text="您好", ts=1.2, staff="zhang")],
    )
    assert tickets.load(tickets.dump(ticket)) == ticket
    assert json.loads(tickets.dump(ticket))["outcome"] == "offline_window"
    assert OUTCOME_LABELS[CloseOutcome.cannot_do] == "无法办理"
    assert [o.value for o in CloseOutcome] == ["done", "offline_window", "booked", "cannot_do"]
