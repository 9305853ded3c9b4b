"""Service hours, slots and bookings against a real Redis, including 200 bookings racing for 10 places."""

from __future__ import annotations

import asyncio
import time
from datetime import date, datetime, timedelta, timezone

import pytest

from records import appointments
from records.appointments import AlreadyBooked, BookingStatus, Slot, SlotError, SlotFull
from records.errors import Conflict, Invalid, NotFound
from records.service_hours import DayKind, ServiceSettings, day_kind, is_open, next_open

CST = timezone(timedelta(hours=8))
# Thursday 2026-10-01 (National Day) .. the week after.
SETTINGS = ServiceSettings.from_env(
    {
        "APPOINTMENT_HOLIDAYS": "2026-10-01, 2026-10-02",
        "APPOINTMENT_WORKDAYS": "2026-10-10",  # a Saturday worked instead (调休)
        "APPOINTMENT_SLOTS": "workday:am=10,pm=10;weekend:am=10,pm=10;holiday:am=5",
    }
)
NOW = datetime(2026, 9, 30, 10, 0, tzinfo=CST).timestamp()  # a Wednesday morning


def at(*args: int) -> float:
    return datetime(*args, tzinfo=CST).timestamp()


def test_defaults_and_env_parsing(tmp_path):
    default = ServiceSettings.from_env({})
    assert default.slots[DayKind.weekend] == {"am": 10, "pm": 10} and default.days_ahead == 14
    holidays = tmp_path / "holidays.yml"
    holidays.write_text("holidays: [2027-01-01]\nworkdays: ['2027-01-09']\n", encoding="utf-8")
    settings = ServiceSettings.from_env({"APPOINTMENT_HOLIDAYS_FILE": str(holidays), "SERVICE_HOURS": "08:30-12:00"})
    assert day_kind(date(2027, 1, 1), settings) == DayKind.holiday
    assert day_kind(date(2027, 1, 9), settings) == DayKind.workday  # a Saturday
    assert is_open(at(2027, 1, 8, 8, 45), settings) and not is_open(at(2027, 1, 8, 14, 0), settings)
    for bad in ({"SERVICE_HOURS": "9-12"}, {"APPOINTMENT_HOLIDAYS": "10/01"}, {"APPOINTMENT_SLOTS": "sunday:am=3"},
                {"APPOINTMENT_SLOTS": "workday:eve=3"}, {"APPOINTMENT_DAYS_AHEAD": "0"},
                {"APPOINTMENT_OFFER_WAIT_MINUTES": "half an hour"}):
        with pytest.raises(Invalid) as err:
            ServiceSettings.from_env(bad)
        assert next(iter(bad)) in str(err.value)


def test_the_offer_instead_of_the_queue():
    offer = appointments.offer_instead_of_queue
    assert offer(NOW, 300, SETTINGS) is None  # open, a short wait
    assert offer(NOW, 30 * 60, SETTINGS) is None  # exactly the limit still queues
    assert offer(NOW, 30 * 60 + 1, SETTINGS) == appointments.OfferReason.long_wait
    assert offer(at(2026, 9, 30, 12, 30), 0, SETTINGS) == appointments.OfferReason.closed  # lunch
    assert offer(at(2026, 10, 1, 10, 0), 0, SETTINGS) == appointments.OfferReason.closed  # a holiday
    patient = ServiceSettings.from_env({"APPOINTMENT_OFFER_WAIT_MINUTES": "90"})
    assert offer(at(2026, 9, 30, 10, 0), 60 * 60, patient) is None


def test_is_open_and_next_open():
    assert is_open(NOW, SETTINGS)
    assert not is_open(at(2026, 9, 30, 12, 30), SETTINGS)  # lunch
    assert next_open(at(2026, 9, 30, 12, 30), SETTINGS) == datetime(2026, 9, 30, 13, 30, tzinfo=CST)
    assert not is_open(at(2026, 10, 1, 10, 0), SETTINGS)  # holiday on a Thursday
    # Wednesday evening -> the holidays and the weekend -> Monday 5 October.
    assert next_open(at(2026, 9, 30, 18, 0), SETTINGS) == datetime(2026, 10, 5, 9, 0, tzinfo=CST)
    assert next_open(at(2026, 10, 9, 18, 0), SETTINGS) == datetime(2026, 10, 10, 9, 0, tzinfo=CST)  # 调休 Saturday
    assert is_open(datetime(2026, 9, 30, 2, 0, tzinfo=timezone.utc), SETTINGS)  # 10:00 in the county


def test_slot_for_explains_what_is_wrong():
    assert appointments.slot_for("2026-10-03", "am", NOW, SETTINGS) == Slot(date=date(2026, 10, 3), period="am")
    assert appointments.slot_for(date(2026, 9, 30), "am", NOW, SETTINGS).period == "am"  # until 12:00
    cases = {
        ("2026-09-29", "pm"): "past",
        ("2026-09-30", "evening"): "unknown_period",
        ("2026-10-01", "pm"): "closed",  # holiday: mornings only
        ("2026-10-31", "am"): "too_far",
        ("10月3日", "am"): "bad_date",
    }
    for (day, period), reason in cases.items():
        with pytest.raises(SlotError) as err:
            appointments.slot_for(day, period, NOW, SETTINGS)
        assert err.value.reason == reason and err.value.message
    late = at(2026, 9, 30, 12, 5)
    with pytest.raises(SlotError):
        appointments.slot_for("2026-09-30", "am", late, SETTINGS)


async def test_available_slots_include_weekends_and_holiday_mornings(aclient):
    slots = await appointments.available_slots(aclient, date(2026, 9, 30), 4, NOW, SETTINGS)
    assert [(s.slot.date.day, s.slot.period, s.capacity) for s in slots] == [
        (30, "am", 10), (30, "pm", 10), (1, "am", 5), (2, "am", 5), (3, "am", 10), (3, "pm", 10)
    ]
    assert slots[4].label == "10月3日（周六）上午 09:00-12:00" and slots[4].remaining == 10


async def test_200_concurrent_bookings_on_10_places(aclient, redis_client):
    slot = appointments.slot_for("2026-10-03", "am", NOW, SETTINGS)

    async def attempt(n: int) -> str:
        try:
            return (await appointments.book(aclient, slot, f"conv-{n}", "rest", "43PCN0013", "退休", None, NOW, SETTINGS)).code
        except SlotFull:
            return "FULL"

    started = time.perf_counter()
    results = await asyncio.gather(*(attempt(n) for n in range(200)))
    elapsed = time.perf_counter() - started
    codes = [r for r in results if r != "FULL"]
    assert len(codes) == 10 and results.count("FULL") == 190 and len(set(codes)) == 10
    assert redis_client.hlen("yjs:appt:slot:2026-10-03:am") == 10
    assert all(len(c) == 6 and not set(c) & set("01OIL") for c in codes)
    print(f"\n200 concurrent bookings on 10 places: 10 booked, 190 SlotFull, {elapsed:.2f} s")

    # Cancelling frees exactly one place.
    winner = next(n for n, r in enumerate(results) if r != "FULL")
    cancelled = await appointments.cancel(aclient, results[winner].lower(), f"conv-{winner}", now=NOW)
    assert cancelled.status == BookingStatus.cancelled
    late = await asyncio.gather(*(attempt(n) for n in range(1000, 1005)))
    assert sum(r != "FULL" for r in late) == 1
    [availability] = [
        s for s in await appointments.available_slots(aclient, date(2026, 10, 3), 1, NOW, SETTINGS) if s.slot.period == "am"
    ]
    assert (availability.booked, availability.remaining) == (10, 0)


async def test_booking_life_cycle(aclient):
    sat_am = appointments.slot_for("2026-10-03", "am", NOW, SETTINGS)
    sat_pm = appointments.slot_for("2026-10-03", "pm", NOW, SETTINGS)
    b = await appointments.book(aclient, sat_am, "web-1", "rest", "43PCN0009", "新生儿出生一件事", "1. 出生医学证明", NOW, SETTINGS)
    assert b.schema_version == 1 and b.status == BookingStatus.booked and b.checklist == "1. 出生医学证明"
    with pytest.raises(AlreadyBooked) as err:
        await appointments.book(aclient, sat_am, "web-1", now=NOW, settings=SETTINGS)
    assert err.value.booking.code == b.code and b.code in err.value.message
    other = await appointments.book(aclient, sat_pm, "web-1", now=NOW + 1, settings=SETTINGS)

    assert await appointments.get_booking(aclient, b.code) == b
    assert await appointments.get_booking(aclient, "ZZZZZZ") is None
    assert [x.code for x in await appointments.bookings_for(aclient, "web-1", settings=SETTINGS)] == [b.code, other.code]

    with pytest.raises(NotFound):  # someone else's code
        await appointments.cancel(aclient, b.code, "web-2", now=NOW)
    with pytest.raises(NotFound):
        await appointments.cancel(aclient, "ABCDEF", "web-1", now=NOW)
    await appointments.cancel(aclient, other.code, "web-1", now=NOW)
    assert (await appointments.cancel(aclient, other.code, "web-1", now=NOW + 5)).cancelled_at == NOW  # repeated
    assert [x.code for x in await appointments.bookings_for(aclient, "web-1", settings=SETTINGS)] == [b.code]
    assert len(await appointments.bookings_for(aclient, "web-1", active_only=False, settings=SETTINGS)) == 2

    # The same conversation may book the slot again after cancelling.
    again = await appointments.book(aclient, sat_pm, "web-1", now=NOW + 10, settings=SETTINGS)
    day = await appointments.list_day(aclient, date(2026, 10, 3), settings=SETTINGS)
    assert [x.code for x in day] == [b.code, again.code]
    assert len(await appointments.list_day(aclient, date(2026, 10, 3), include_cancelled=True, settings=SETTINGS)) == 3

    marked = await appointments.mark(aclient, b.code, "attended", staff="zhang", now=NOW + 20)
    assert marked.status == BookingStatus.attended and marked.marked_by == "zhang"
    assert (await appointments.mark(aclient, b.code, "no_show", staff="zhang")).status == BookingStatus.no_show
    with pytest.raises(Conflict):
        await appointments.cancel(aclient, b.code, "web-1")
    with pytest.raises(Conflict):
        await appointments.mark(aclient, other.code, "attended")
    with pytest.raises(Invalid):
        await appointments.mark(aclient, again.code, "booked")
    with pytest.raises(SlotError):
        await appointments.book(aclient, Slot(date=date(2026, 10, 1), period="pm"), "web-3", now=NOW, settings=SETTINGS)
