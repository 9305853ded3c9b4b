"""Appointments in the chat against a real Redis: book (words or a slot button), see, cancel; full and
closed slots; the offer in action_handoff outside service hours or with a long wait; queue anyway."""

from __future__ import annotations

import json
import time
from datetime import date, timedelta
from typing import Any

import pytest
from hours_env import ALWAYS_CLOSED
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.appointments import (
    ActionBookAppointment,
    ActionCancelAppointment,
    ActionMyAppointments,
    slot_from_entity,
)
from actions.handoff import QUEUE_ANYWAY, ActionHandoff
from records import appointments as appt
from records import staff_queue
from records import tickets as store
from records.service_hours import ServiceSettings, local
from records.staff_queue import QUEUE_KEY

THING = "43PCN0009"  # 新生儿出生一件事


def tracker(
    text: str,
    intent: str = "book_appointment",
    entities: list[dict[str, Any]] | None = None,
    sender: str = "web-7",
    slots: dict[str, Any] | None = None,
) -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": entities or []}
    return Tracker(
        sender_id=sender,
        slots={"current_thing": None, "checklist_facts": None, **(slots or {})},
        latest_message=latest,
        events=[{"event": "user", "text": text, "parse_data": latest, "input_channel": "kiosk"}],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def ahead(days: int) -> date:
    return local(time.time(), ServiceSettings()).date() + timedelta(days=days)


def slot_button(day: date, period: str = "am") -> list[dict[str, Any]]:
    return [{"entity": "appt_slot", "value": f"{day.isoformat()}:{period}"}]


def payload_entity(payload: str) -> dict[str, str]:
    return json.loads(payload[payload.index("{"):])


async def book(t: Tracker) -> CollectingDispatcher:
    dispatcher = CollectingDispatcher()
    assert await ActionBookAppointment().run(dispatcher, t, {}) == []
    return dispatcher


async def test_a_slot_button_books_with_the_thing_and_its_checklist(fake_service, records_redis) -> None:
    day = ahead(3)
    out = await book(tracker("/book_appointment", entities=slot_button(day), slots={"current_thing": THING}))

    [message] = out.messages
    card = message["custom"]["appointment"]
    booking = await _booking(records_redis, card["code"])
    assert (booking.date, booking.period, booking.channel) == (day, "am", "kiosk")
    assert (booking.thing_code, booking.thing_title) == (THING, "新生儿出生一件事")
    assert booking.checklist and "父母身份证" in booking.checklist
    text = message["text"]
    assert text.startswith("预约好了") and f"预约码：{booking.code}" in text
    assert f"{day.month}月{day.day}日" in text and "新生儿出生一件事" in text and "父母身份证" in text
    assert "红石科技园" in text and "取消预约" in text
    assert records_redis.hlen(appt.slot_key(day, "am")) == 1


async def test_words_book_the_half_day_said(fake_service, records_redis) -> None:
    out = await book(tracker("帮我约后天下午"))
    card = out.messages[0]["custom"]["appointment"]
    assert (card["date"], card["period"]) == (ahead(2).isoformat(), "pm")
    assert "到时候跟工作人员说" in out.messages[0]["text"]  # no matter yet: said plainly


async def test_no_time_said_offers_the_free_half_days(fake_service, records_redis) -> None:
    out = await book(tracker("我想预约"))
    [message] = out.messages
    assert "点一个就约好了" in message["text"]
    buttons = message["buttons"]
    assert 1 <= len(buttons) <= 6
    for button in buttons:
        when = slot_from_entity(payload_entity(button["payload"])["appt_slot"])
        assert when is not None and when.day is not None and when.day >= ahead(0)
        assert "还有10个" in button["title"]
    assert records_redis.keys(appt.PREFIX + "booking:*") == []  # nothing booked by offering


async def test_a_full_half_day_is_said_and_others_offered(fake_service, records_redis, monkeypatch) -> None:
    monkeypatch.setenv("APPOINTMENT_SLOTS", "workday:am=1,pm=1;weekend:am=1,pm=1;holiday:am=1,pm=1")
    day = ahead(4)
    await book(tracker("x", entities=slot_button(day), sender="web-other"))

    out = await book(tracker("x", entities=slot_button(day)))
    [message] = out.messages
    assert "约满" in message["text"] and not message.get("custom")
    offered = [payload_entity(b["payload"])["appt_slot"] for b in message["buttons"]]
    assert f"{day.isoformat()}:am" not in offered and offered[0] == f"{day.isoformat()}:pm"  # same day first
    assert len(offered) == 6  # then the soonest others


async def test_a_closed_or_past_half_day_is_explained(fake_service, records_redis, monkeypatch) -> None:
    monkeypatch.setenv("APPOINTMENT_SLOTS", "workday:am=10,pm=10")  # no weekend or holiday slots
    monkeypatch.setenv("SERVICE_WEEKDAYS", "mon,tue,wed,thu,fri")
    day = ahead(1)
    while day.weekday() < 5:
        day += timedelta(days=1)
    out = await book(tracker("x", entities=slot_button(day)))
    assert "不接受预约" in out.messages[0]["text"]
    out = await book(tracker("x", entities=slot_button(ahead(-1))))
    assert "已经过去" in out.messages[0]["text"]
    out = await book(tracker("x", entities=slot_button(ahead(60))))
    assert "14天以内" in out.messages[0]["text"]


async def test_booking_twice_gives_the_same_code(fake_service, records_redis) -> None:
    day = ahead(5)
    first = (await book(tracker("x", entities=slot_button(day)))).messages[0]["custom"]["appointment"]["code"]
    again = (await book(tracker("x", entities=slot_button(day)))).messages[0]["custom"]["appointment"]["code"]
    assert first == again and records_redis.hlen(appt.slot_key(day, "am")) == 1


async def test_too_many_bookings_are_refused_kindly(fake_service, records_redis) -> None:
    records_redis.set("yjs:limit:write:booking:web-7", 5)
    out = await book(tracker("x", entities=slot_button(ahead(3))))
    assert "好几次" in out.messages[0]["text"] and "0739-12345" in out.messages[0]["text"]
    assert records_redis.keys(appt.PREFIX + "booking:*") == []


async def test_see_and_cancel(fake_service, records_redis) -> None:
    dispatcher = CollectingDispatcher()
    await ActionMyAppointments().run(dispatcher, tracker("我的预约", "my_appointments"), {})
    assert "没有预约" in dispatcher.messages[0]["text"]

    code = (await book(tracker("x", entities=slot_button(ahead(3)))))
    code = code.messages[0]["custom"]["appointment"]["code"]
    dispatcher = CollectingDispatcher()
    await ActionMyAppointments().run(dispatcher, tracker("我约的是哪天", "my_appointments"), {})
    assert code in dispatcher.messages[0]["text"]

    dispatcher = CollectingDispatcher()
    await ActionCancelAppointment().run(dispatcher, tracker("取消预约", "cancel_appointment"), {})
    assert "已经取消" in dispatcher.messages[0]["text"] and code in dispatcher.messages[0]["text"]
    assert records_redis.hlen(appt.slot_key(ahead(3), "am")) == 0  # the place is free again

    dispatcher = CollectingDispatcher()
    await ActionCancelAppointment().run(dispatcher, tracker("取消预约", "cancel_appointment"), {})
    assert "没有预约" in dispatcher.messages[0]["text"]


async def test_several_bookings_ask_which_and_a_typed_code_cancels_it(fake_service, records_redis) -> None:
    codes = [
        (await book(tracker("x", entities=slot_button(ahead(n))))).messages[0]["custom"]["appointment"]["code"]
        for n in (3, 4)
    ]
    dispatcher = CollectingDispatcher()
    await ActionCancelAppointment().run(dispatcher, tracker("取消预约", "cancel_appointment"), {})
    [message] = dispatcher.messages
    assert [payload_entity(b["payload"])["appt_code"] for b in message["buttons"]] == codes

    dispatcher = CollectingDispatcher()
    await ActionCancelAppointment().run(dispatcher, tracker(f"取消 {codes[1].lower()}", "cancel_appointment"), {})
    assert codes[1] in dispatcher.messages[0]["text"]
    assert [b.code for b in await _active(records_redis, "web-7")] == [codes[0]]


async def test_someone_elses_code_is_not_found(fake_service, records_redis) -> None:
    other = await book(tracker("x", entities=slot_button(ahead(3)), sender="web-other"))
    code = other.messages[0]["custom"]["appointment"]["code"]
    dispatcher = CollectingDispatcher()
    await ActionCancelAppointment().run(
        dispatcher, tracker("x", "cancel_appointment", entities=[{"entity": "appt_code", "value": code}]), {}
    )
    assert "没有找到" in dispatcher.messages[0]["text"]
    assert [b.code for b in await _active(records_redis, "web-other")] == [code]


# --- the offer in action_handoff ------------------------------------------------------------------


def handoff_tracker(intent: str, consent_slot: bool | None = None) -> Tracker:
    return tracker("/" + intent, intent, slots={"handoff_consent": consent_slot, "person_group": None})


async def test_outside_service_hours_an_appointment_is_offered_not_a_ticket(
    fake_service, records_redis, monkeypatch
) -> None:
    for name, value in ALWAYS_CLOSED.items():
        monkeypatch.setenv(name, value)
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff().run(dispatcher, handoff_tracker("affirm"), {})

    assert events == [{"event": "slot", "timestamp": None, "name": "handoff_consent", "value": True}]
    [message] = dispatcher.messages
    assert "不是上班时间" in message["text"] and "0739-12345" in message["text"]
    payloads = [b["payload"] for b in message["buttons"]]
    assert payloads[-1] == "/" + QUEUE_ANYWAY and payloads[0].startswith("/book_appointment")
    assert store.ticket_for_sender_sync(records_redis, "web-7") is None

    # "还是排队等": the ticket, with the consent given before.
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff().run(dispatcher, handoff_tracker(QUEUE_ANYWAY, consent_slot=True), {})
    assert events == [{"event": "pause", "timestamp": None}]
    ticket = store.ticket_for_sender_sync(records_redis, "web-7")
    assert ticket is not None and ticket.consent is True


async def test_a_long_wait_offers_an_appointment(fake_service, records_redis) -> None:
    records_redis.zadd(QUEUE_KEY, {f"t{n}": n for n in range(7)})  # 8 places x 5 min > 30 min
    assert await _wait(records_redis) > 30 * 60
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff().run(dispatcher, handoff_tracker("deny"), {})
    assert events[0]["value"] is False
    assert "排队的人多" in dispatcher.messages[0]["text"] and "40 分钟" in dispatcher.messages[0]["text"]


async def test_a_short_wait_in_hours_writes_the_ticket(fake_service, records_redis) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff().run(dispatcher, handoff_tracker("affirm"), {})
    assert events == [{"event": "pause", "timestamp": None}]
    assert "buttons" not in dispatcher.messages[0] or not dispatcher.messages[0]["buttons"]


# --- helpers ----------------------------------------------------------------------------------------


async def _booking(sync_client, code: str) -> appt.Booking:
    raw = sync_client.get(appt.booking_key(code))
    assert raw, f"booking {code} not stored"
    return appt.Booking.model_validate_json(raw)


async def _active(sync_client, sender: str) -> list[appt.Booking]:
    codes = sync_client.smembers(appt.conversation_key(sender))
    found = [appt.Booking.model_validate_json(sync_client.get(appt.booking_key(c))) for c in codes]
    return sorted((b for b in found if b.status == appt.BookingStatus.booked), key=lambda b: b.date)


async def _wait(sync_client) -> int:
    from records.client import async_client

    client = async_client(sync_client.connection_pool.connection_kwargs and _url(sync_client))
    try:
        return await staff_queue.estimated_wait(client)
    finally:
        await client.aclose()


def _url(sync_client) -> str:
    kw = sync_client.connection_pool.connection_kwargs
    return f"redis://{kw['host']}:{kw['port']}/{kw.get('db', 0)}"


@pytest.fixture(autouse=True)
def _clean_queue(records_redis):
    yield
    records_redis.delete(QUEUE_KEY)
