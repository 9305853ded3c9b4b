"""The staff side of the queue against a real Redis: claims (and their races), requeue, close, messages."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from records import handback, staff_queue, tickets
from records.errors import Conflict, Invalid, NotFound
from records.events import EventKind, latest_event_id, read_events
from records.inbox import read_inbox
from records.ticket_model import CloseOutcome, HandoffTicket, TicketStatus

T0 = 1_795_680_000.0


def _ticket(sender: str, created_at: float = T0, priority: bool = False) -> HandoffTicket:
    return HandoffTicket(sender=sender, created_at=created_at, priority=priority, consent=True, why="帮我办")


async def test_claim_takes_a_waiting_ticket_once(aclient, redis_client):
    t = await tickets.create_ticket(aclient, _ticket("c-1"), now=T0)
    claimed = await staff_queue.claim(aclient, t.id, "zhang", now=T0 + 30)
    assert claimed.status == TicketStatus.picked_up and claimed.staff == "zhang" and claimed.claimed_at == T0 + 30
    assert tickets.queued_ids_sync(redis_client) == []
    assert redis_client.zscore(tickets.CLAIMED_KEY, t.id) == T0 + 30
    assert (await staff_queue.claim(aclient, t.id, "zhang")).claimed_at == T0 + 30  # a retried request
    with pytest.raises(Conflict):
        await staff_queue.claim(aclient, t.id, "li")
    with pytest.raises(NotFound):
        await staff_queue.claim(aclient, "no-such-ticket", "li")
    inbox = await read_inbox(aclient, "c-1")
    assert [m.sender for m in inbox] == ["system"] and "接手" in inbox[0].text


async def test_claim_refuses_closed_and_resumed_tickets(aclient):
    a = await tickets.create_ticket(aclient, _ticket("c-a"))
    b = await tickets.create_ticket(aclient, _ticket("c-b"))
    await handback.mark_resumed(aclient, a.id, "asked", rasa_told=True)
    await staff_queue.claim(aclient, b.id, "zhang")
    await staff_queue.close(aclient, b.id, "zhang", CloseOutcome.done, "办好了", return_to_bot=True)
    for ticket_id in (a.id, b.id):
        with pytest.raises(Conflict):
            await staff_queue.claim(aclient, ticket_id, "li")


async def test_1000_concurrent_claims_each_ticket_claimed_exactly_once(aclient, redis_client):
    """100 tickets x 10 staff members pressing "take" at the same moment."""
    ids = [(await tickets.create_ticket(aclient, _ticket(f"race-{n}", T0 + n))).id for n in range(100)]

    async def attempt(ticket_id: str, staff: str) -> str | None:
        try:
            return (await staff_queue.claim(aclient, ticket_id, staff)).staff
        except Conflict:
            return None

    calls = [attempt(i, f"staff{k}") for i in ids for k in range(10)]
    started = time.perf_counter()
    results = await asyncio.gather(*calls)
    elapsed = time.perf_counter() - started
    winners = [r for r in results if r is not None]
    assert len(results) == 1000 and len(winners) == 100 and results.count(None) == 900
    for n, ticket_id in enumerate(ids):
        per_ticket = results[n * 10 : (n + 1) * 10]
        assert sum(r is not None for r in per_ticket) == 1
        stored = json.loads(redis_client.get(f"yjs:handoff:ticket:{ticket_id}"))
        assert stored["status"] == "picked_up" and stored["staff"] == next(r for r in per_ticket if r)
    assert redis_client.zcard("yjs:handoff:queue") == 0 and redis_client.zcard(tickets.CLAIMED_KEY) == 100
    claimed_events = [e for e in await read_events(aclient, "0", count=10_000) if e.kind == EventKind.claimed]
    assert len(claimed_events) == 100
    print(f"\n1000 claim races: 100 won, 900 Conflict, {elapsed:.2f} s")


async def test_requeue_abandoned_keeps_priority_and_order(aclient, redis_client):
    old = await tickets.create_ticket(aclient, _ticket("r-old", T0))
    urgent = await tickets.create_ticket(aclient, _ticket("r-urgent", T0 + 50, priority=True))
    newer = await tickets.create_ticket(aclient, _ticket("r-new", T0 + 100))
    await staff_queue.claim(aclient, urgent.id, "gone", now=T0 + 200)
    await staff_queue.claim(aclient, old.id, "here", now=T0 + 200)
    await staff_queue.heartbeat(aclient, "here", now=T0 + 280)

    assert await staff_queue.requeue_abandoned(aclient, now=T0 + 250, timeout_seconds=90) == []
    assert await staff_queue.requeue_abandoned(aclient, now=T0 + 300, timeout_seconds=90) == [urgent.id]

    back = await tickets.get_ticket(aclient, urgent.id)
    assert back.status == TicketStatus.waiting and back.staff is None and back.claimed_at is None
    assert back.requeued_at == T0 + 300
    assert tickets.queued_ids_sync(redis_client) == [urgent.id, newer.id]  # priority first again
    assert redis_client.zscore("yjs:handoff:queue", urgent.id) == tickets.queue_score(urgent)
    assert (await tickets.get_ticket(aclient, old.id)).staff == "here"
    assert "顺序不变" in (await read_inbox(aclient, "r-urgent"))[-1].text


async def test_close_racing_requeue_never_resurrects_a_closed_ticket(aclient, redis_client):
    async def close(ticket_id: str, delay: float) -> bool:
        await asyncio.sleep(delay)
        try:
            await staff_queue.close(aclient, ticket_id, "slow", "done", None, True, now=T0 + 500)
            return True
        except Conflict:
            return False

    outcomes = []
    for round_ in range(40):
        t = await tickets.create_ticket(aclient, _ticket(f"cr-{round_}", T0))
        await staff_queue.claim(aclient, t.id, "slow", now=T0)
        # Start the close a little later in some rounds, so that both orders happen.
        closed, requeued = await asyncio.gather(
            close(t.id, (round_ % 4) * 0.0005),
            staff_queue.requeue_abandoned(aclient, now=T0 + 500, timeout_seconds=90),
        )
        outcomes.append(closed)
        final = await tickets.get_ticket(aclient, t.id)
        if closed:
            assert final.status == TicketStatus.closed and requeued == []
            assert redis_client.zscore("yjs:handoff:queue", t.id) is None
        else:
            assert final.status == TicketStatus.waiting and requeued == [t.id]
            assert redis_client.zscore("yjs:handoff:queue", t.id) is not None
        assert redis_client.zscore(tickets.CLAIMED_KEY, t.id) is None
    print(f"\nclose vs requeue: close won {outcomes.count(True)}, requeue won {outcomes.count(False)} of 40")


async def test_close_only_by_the_claiming_staff(aclient, redis_client):
    t = await tickets.create_ticket(aclient, _ticket("cl-1"))
    with pytest.raises(Conflict):  # still waiting
        await staff_queue.close(aclient, t.id, "zhang", "done")
    await staff_queue.claim(aclient, t.id, "zhang")
    with pytest.raises(Conflict):
        await staff_queue.close(aclient, t.id, "li", "done")
    with pytest.raises(Invalid):
        await staff_queue.close(aclient, t.id, "zhang", "finished")
    closed = await staff_queue.close(aclient, t.id, "zhang", "booked", " 约了周六上午 ", return_to_bot=True, now=T0 + 9)
    assert closed.status == TicketStatus.closed and closed.outcome == CloseOutcome.booked
    assert closed.staff_note == "约了周六上午" and closed.closed_at == T0 + 9 and closed.returned_to_bot is True
    assert closed.resume_pending
    assert redis_client.get("yjs:handoff:by_sender:cl-1") == t.id  # kept until the gateway acks
    assert redis_client.zscore(tickets.CLOSED_KEY, t.id) == T0 + 9
    assert redis_client.zscore(tickets.CLAIMED_KEY, t.id) is None


async def test_hand_back_resumes_exactly_once(aclient, redis_client):
    t = await tickets.create_ticket(aclient, _ticket("hb-1"))
    await staff_queue.claim(aclient, t.id, "zhang")
    with pytest.raises(Conflict):
        await handback.ack_returned(aclient, t.id)
    await staff_queue.close(aclient, t.id, "zhang", "done", None, True)

    # Two gateway processes notice the close at once: one takes the hand-back.
    first, second = await asyncio.gather(
        handback.try_begin_return(aclient, t.id, "gw-1"), handback.try_begin_return(aclient, t.id, "gw-2")
    )
    assert sorted([first, second]) == [False, True]
    owner = "gw-1" if first else "gw-2"
    await handback.release_return(aclient, t.id, "someone-else")  # not theirs: no effect
    assert not await handback.try_begin_return(aclient, t.id, "gw-3")
    await handback.release_return(aclient, t.id, owner)  # Rasa was down: let the next try happen
    assert await handback.try_begin_return(aclient, t.id, "gw-3")

    acks = await asyncio.gather(handback.ack_returned(aclient, t.id), handback.ack_returned(aclient, t.id))
    assert sorted(acks) == [False, True]
    final = await tickets.get_ticket(aclient, t.id)
    assert not final.resume_pending and final.returned_at is not None
    assert redis_client.get("yjs:handoff:by_sender:hb-1") is None
    assert redis_client.get(tickets.returning_key(t.id)) is None
    kinds = [e.kind for e in await read_events(aclient, "0")]
    assert kinds == [EventKind.created, EventKind.claimed, EventKind.closed, EventKind.returned]


async def test_messages_notes_inbox_and_events(aclient):
    t = await tickets.create_ticket(aclient, _ticket("m-1"))
    start = await latest_event_id(aclient)
    with pytest.raises(Conflict):  # not claimed yet
        await staff_queue.add_staff_message(aclient, t.id, "zhang", "您好")
    await staff_queue.claim(aclient, t.id, "zhang")
    with pytest.raises(Conflict):
        await staff_queue.add_staff_message(aclient, t.id, "li", "您好")
    with pytest.raises(Invalid):
        await staff_queue.add_staff_message(aclient, t.id, "zhang", "   ")
    sent = await staff_queue.add_staff_message(aclient, t.id, "zhang", "您好，我是县政务中心的小张。")
    await handback.add_citizen_message(aclient, t.id, "要带户口本吗")
    await staff_queue.add_note(aclient, t.id, "zhang", "老人耳背，说话慢一点")
    second = await staff_queue.add_staff_message(aclient, t.id, "zhang", "要带的，原件。")

    ticket = await tickets.get_ticket(aclient, t.id)
    assert [(line.role, line.text) for line in ticket.transcript] == [
        ("staff", "您好，我是县政务中心的小张。"),
        ("user", "要带户口本吗"),
        ("staff", "要带的，原件。"),
    ]
    assert ticket.transcript[0].staff == "zhang"
    assert [n.text for n in ticket.notes] == ["老人耳背，说话慢一点"]

    inbox = await read_inbox(aclient, "m-1")
    assert [m.text for m in inbox if m.sender == "staff"] == ["您好，我是县政务中心的小张。", "要带的，原件。"]
    assert all("耳背" not in m.text for m in inbox)  # notes never reach the person
    assert [m.text for m in await read_inbox(aclient, "m-1", after_id=sent.inbox_id)] == ["要带的，原件。"]
    assert await read_inbox(aclient, "m-1", after_id=second.inbox_id) == []
    ids = [m.id for m in inbox]
    assert ids == sorted(ids, key=lambda i: tuple(map(int, i.split("-"))))

    events = await read_events(aclient, start)
    assert [e.kind for e in events] == [
        EventKind.claimed,
        EventKind.staff_message,
        EventKind.citizen_message,
        EventKind.note,
        EventKind.staff_message,
    ]
    assert events[2].text == "要带户口本吗" and events[3].text is None and events[3].staff == "zhang"


async def test_two_readers_see_the_same_events_and_block_for_new_ones(redis_url, aclient):
    from records.client import async_client

    other = async_client(redis_url)
    try:
        start = await latest_event_id(aclient)
        waiting = asyncio.create_task(read_events(other, start, block_ms=3000))
        waiting_inbox = asyncio.create_task(read_inbox(other, "ev-1", after_id=None, block_ms=3000))
        await asyncio.sleep(0.05)
        t = await tickets.create_ticket(aclient, _ticket("ev-1"))
        await staff_queue.claim(aclient, t.id, "zhang")
        got = await asyncio.wait_for(waiting, 5)
        assert got[0].kind == EventKind.created and got[0].ticket == t.id and got[0].conversation == "ev-1"
        assert (await asyncio.wait_for(waiting_inbox, 5))[0].sender == "system"
        mine = await read_events(aclient, start)
        theirs = await read_events(other, start)
        assert [e.id for e in mine] == [e.id for e in theirs] and len(mine) == 2
        assert await read_events(other, mine[-1].id, block_ms=50) == []
    finally:
        await other.aclose()


async def test_citizen_resume_races_a_claim_cleanly(aclient, redis_client):
    async def claim(ticket_id: str) -> bool:
        try:
            await staff_queue.claim(aclient, ticket_id, "zhang")
            return True
        except Conflict:
            return False

    async def resume(ticket_id: str) -> bool:
        try:
            await handback.mark_resumed(aclient, ticket_id, "asked", rasa_told=True)
            return True
        except Conflict:
            return False

    for n in range(20):
        t = await tickets.create_ticket(aclient, _ticket(f"rz-{n}"))
        claimed, resumed = await asyncio.gather(claim(t.id), resume(t.id))
        final = await tickets.get_ticket(aclient, t.id)
        assert claimed or resumed  # both when the person leaves right after the claim
        assert final.status == (TicketStatus.resumed if resumed else TicketStatus.picked_up)
        if resumed:  # the person left after the claim: out of every index, link gone
            assert redis_client.zscore(tickets.CLAIMED_KEY, t.id) is None
            assert redis_client.get(f"yjs:handoff:by_sender:rz-{n}") is None
        assert redis_client.zscore("yjs:handoff:queue", t.id) is None


async def test_list_tickets_and_position(aclient, redis_client):
    a = await tickets.create_ticket(aclient, _ticket("p-a", T0))
    b = await tickets.create_ticket(aclient, _ticket("p-b", T0 + 10))
    c = await tickets.create_ticket(aclient, _ticket("p-c", T0 + 20, priority=True))
    assert [t.id for t in await staff_queue.list_tickets(aclient, "waiting")] == [c.id, a.id, b.id]

    pos = await staff_queue.position(aclient, b.id, now=T0 + 30)
    assert (pos.place, pos.ahead) == (3, 2)
    assert pos.estimated_wait_seconds == 3 * staff_queue.DEFAULT_SECONDS_PER_PLACE  # no history yet

    await staff_queue.claim(aclient, c.id, "zhang", now=T0 + 100)
    await staff_queue.claim(aclient, a.id, "li", now=T0 + 400)  # one pickup every 300 s... then faster
    assert await staff_queue.position(aclient, a.id) is None
    pos = await staff_queue.position(aclient, b.id, now=T0 + 500)
    assert (pos.place, pos.ahead, pos.estimated_wait_seconds) == (1, 0, 300)
    assert await staff_queue.estimated_wait(aclient, now=T0 + 500) == 600
    with pytest.raises(NotFound):
        await staff_queue.position(aclient, "nope")

    assert [t.id for t in await staff_queue.list_tickets(aclient, "claimed")] == [c.id, a.id]
    await staff_queue.close(aclient, c.id, "zhang", "done", now=T0 + 600)
    await staff_queue.close(aclient, a.id, "li", "cannot_do", now=T0 + 700)
    assert [t.id for t in await staff_queue.list_tickets(aclient, TicketStatus.closed)] == [a.id, c.id]
    assert [t.id for t in await staff_queue.list_tickets(aclient, "closed", since=T0 + 650)] == [a.id]
    assert await staff_queue.list_tickets(aclient, "picked_up") == []
    with pytest.raises(Invalid):
        await staff_queue.list_tickets(aclient, "resumed")


def test_sync_create_for_the_action_server(redis_client):
    t = tickets.create_ticket_sync(redis_client, _ticket("sync-1"), now=T0)
    assert tickets.get_ticket_sync(redis_client, t.id) == t
    assert tickets.queued_ids_sync(redis_client) == [t.id]
    assert redis_client.get("yjs:handoff:by_sender:sync-1") == t.id
    entry = redis_client.xrange("yjs:handoff:events")[0][1]
    assert entry["kind"] == "created" and entry["ticket"] == t.id
    assert tickets.create_ticket_sync(redis_client, t) == t  # a retry
    with pytest.raises(Conflict):
        tickets.create_ticket_sync(redis_client, t.model_copy(update={"priority": True}))
    assert redis_client.xlen("yjs:handoff:events") == 1


async def test_close_after_requeue_is_refused_and_requeue_after_close_does_nothing(aclient):
    a = await tickets.create_ticket(aclient, _ticket("seq-a", T0))
    b = await tickets.create_ticket(aclient, _ticket("seq-b", T0))
    await staff_queue.claim(aclient, a.id, "slow", now=T0)
    await staff_queue.claim(aclient, b.id, "slow", now=T0)
    await staff_queue.close(aclient, b.id, "slow", "done", now=T0 + 400)
    assert await staff_queue.requeue_abandoned(aclient, now=T0 + 500, timeout_seconds=90) == [a.id]
    with pytest.raises(Conflict):
        await staff_queue.close(aclient, a.id, "slow", "done", now=T0 + 501)
    assert (await tickets.get_ticket(aclient, b.id)).status == TicketStatus.closed


async def test_a_request_sent_twice_is_applied_once(aclient, redis_client):
    """What a client retry after a lost reply amounts to: the same call, same ``now``, again."""
    t = _ticket("twice", T0)
    await tickets.create_ticket(aclient, t, now=T0)
    await tickets.create_ticket(aclient, t, now=T0)
    with pytest.raises(Conflict):
        await tickets.create_ticket(aclient, t.model_copy(update={"why": "别的"}), now=T0)
    await staff_queue.claim(aclient, t.id, "zhang", now=T0 + 1)
    first = await staff_queue.add_staff_message(aclient, t.id, "zhang", "您好", now=T0 + 2)
    again = await staff_queue.add_staff_message(aclient, t.id, "zhang", "您好", now=T0 + 2)
    assert again.inbox_id == first.inbox_id
    await handback.add_citizen_message(aclient, t.id, "在的", now=T0 + 3)
    await handback.add_citizen_message(aclient, t.id, "在的", now=T0 + 3)
    await staff_queue.add_note(aclient, t.id, "zhang", "记一下", now=T0 + 4)
    await staff_queue.add_note(aclient, t.id, "zhang", "记一下", now=T0 + 4)
    await staff_queue.close(aclient, t.id, "zhang", "done", now=T0 + 5)
    await staff_queue.close(aclient, t.id, "zhang", "done", now=T0 + 5)
    final = await tickets.get_ticket(aclient, t.id)
    assert [line.text for line in final.transcript] == ["您好", "在的"] and len(final.notes) == 1
    assert [e.kind for e in await read_events(aclient, "0")] == [
        EventKind.created, EventKind.claimed, EventKind.staff_message, EventKind.citizen_message, EventKind.note,
        EventKind.closed,
    ]
    u = await tickets.create_ticket(aclient, _ticket("twice-2", T0), now=T0)
    await handback.mark_resumed(aclient, u.id, "asked", rasa_told=False, now=T0 + 6)
    assert (await handback.mark_resumed(aclient, u.id, "asked", rasa_told=False, now=T0 + 6)).status == TicketStatus.resumed
    with pytest.raises(Conflict):
        await handback.mark_resumed(aclient, u.id, "asked", rasa_told=True, now=T0 + 7)
    assert redis_client.get("yjs:handoff:by_sender:twice-2") == u.id  # Rasa not told yet: link kept
