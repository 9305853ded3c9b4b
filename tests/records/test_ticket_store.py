"""The one ticket store (records.tickets) against a real Redis: round trip, queue order, sender lookup,
the sync creation publishing its event, and the gateway's compare-and-set writes."""

from __future__ import annotations

import json

import pytest

from records import handback, staff_queue
from records import tickets as store
from records.errors import Conflict
from records.events import EventKind, read_events
from records.ticket_model import HandoffTicket, MatchedThing, TicketStatus, TranscriptLine


def _ticket(sender: str, created_at: float, priority: bool = False) -> HandoffTicket:
    return HandoffTicket(sender=sender, created_at=created_at, priority=priority, consent=True)


def test_round_trip_keeps_every_field(redis_client):
    ticket = HandoffTicket(
        sender="u-1",
        channel="rest",
        priority=True,
        priority_reason="老年人",
        consent=True,
        why="帮我找个工作人员",
        matched_things=[MatchedThing(code="43PCN0013", title="退休一件事")],
        current_thing=MatchedThing(code="43PCN0013", title="退休一件事"),
        checklist="【退休一件事】材料清单\n1. 身份证",
        conditions=["达到法定退休年龄"],
        transcript=[TranscriptLine(role="user", text="我要办退休", ts=1.0)],
        contact="13907391234",
    )
    store.create_ticket_sync(redis_client, ticket)

    assert store.get_ticket_sync(redis_client, ticket.id) == ticket
    raw = json.loads(redis_client.get(f"yjs:handoff:ticket:{ticket.id}"))
    assert raw["schema_version"] == 1 and raw["status"] == "waiting" and raw["sender"] == "u-1"
    assert redis_client.get("yjs:handoff:by_sender:u-1") == ticket.id
    assert store.ticket_for_sender_sync(redis_client, "u-1") == ticket
    assert store.ticket_for_sender_sync(redis_client, "nobody") is None
    assert store.get_ticket_sync(redis_client, "missing") is None


def test_queue_serves_priority_first_then_oldest(redis_client):
    old = _ticket("a", 1_000.0)
    new = _ticket("b", 2_000.0)
    urgent_new = _ticket("c", 3_000.0, priority=True)
    urgent_old = _ticket("d", 2_500.0, priority=True)
    for t in (new, urgent_new, old, urgent_old):
        store.create_ticket_sync(redis_client, t)

    assert store.queued_ids_sync(redis_client) == [urgent_old.id, urgent_new.id, old.id, new.id]


async def test_async_lookup_transcript_and_resume(aclient, redis_client):
    ticket = _ticket("u-2", 1_000.0)
    store.create_ticket_sync(redis_client, ticket)
    found = await store.ticket_for_sender(aclient, "u-2")
    assert found == ticket
    assert await store.queued_ids(aclient) == [ticket.id]
    await handback.add_citizen_message(aclient, ticket.id, "还要等多久", now=2_000.0)
    await handback.add_citizen_message(aclient, ticket.id, "好的", now=2_001.0)
    stored = store.get_ticket_sync(redis_client, ticket.id)
    assert [t.text for t in stored.transcript] == ["还要等多久", "好的"]
    kinds = [e.kind for e in await read_events(aclient, "0")]
    assert kinds == [EventKind.created, EventKind.citizen_message, EventKind.citizen_message]

    resumed = await handback.mark_resumed(aclient, ticket.id, "asked", rasa_told=True)
    assert resumed.status == TicketStatus.resumed and resumed.resumed_reason == "asked"
    assert store.get_ticket_sync(redis_client, ticket.id).status == TicketStatus.resumed
    assert store.queued_ids_sync(redis_client) == []
    assert await store.ticket_for_sender(aclient, "u-2") is None


async def test_resume_not_told_to_rasa_keeps_the_sender_link(aclient, redis_client):
    ticket = _ticket("u-3", 1_000.0)
    store.create_ticket_sync(redis_client, ticket)
    await handback.mark_resumed(aclient, ticket.id, "timeout", rasa_told=False)
    assert store.queued_ids_sync(redis_client) == []
    still = store.ticket_for_sender_sync(redis_client, "u-3")
    assert still is not None and still.status == TicketStatus.resumed
    await handback.release_sender(aclient, still)
    assert store.ticket_for_sender_sync(redis_client, "u-3") is None


async def test_a_resume_never_overwrites_a_claim_made_first(aclient, redis_client):
    ticket = _ticket("u-4", 1_000.0)
    store.create_ticket_sync(redis_client, ticket)
    await staff_queue.claim(aclient, ticket.id, "zhang")
    with pytest.raises(Conflict):
        await handback.mark_resumed(aclient, ticket.id, "timeout", rasa_told=True, expect=TicketStatus.waiting)
    assert store.get_ticket_sync(redis_client, ticket.id).status == TicketStatus.picked_up
    # Asking for the assistant back still works on a picked-up ticket.
    resumed = await handback.mark_resumed(aclient, ticket.id, "asked", rasa_told=True)
    assert resumed.status == TicketStatus.resumed and store.queued_ids_sync(redis_client) == []
