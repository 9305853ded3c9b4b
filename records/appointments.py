"""帮代办 appointments: half-day slots with a capacity (weekends and holidays included), bookings
with a short code the person shows at the window, and the day's list for the staff console.

Keys:

- ``yjs:appt:booking:<code>``           string: the booking, JSON (``Booking``, schema 1); kept
- ``yjs:appt:slot:<yyyy-mm-dd>:<period>`` hash: conversation → code of each *active* booking of the
                                         slot; its length is the number of places taken
- ``yjs:appt:day:<yyyy-mm-dd>``         sorted set: every booking code of that day, score created_at
- ``yjs:appt:by_conv:<conversation>``   set: every booking code of a conversation

``book`` is one Lua script (place check, one active booking per conversation per slot, unique code,
insert); ``cancel`` and ``mark`` are compare-and-set updates (``records.cas``). Which days and
half-days have slots and how many places: ``records.service_hours.ServiceSettings``. A slot can be
booked until its half-day ends, at most ``APPOINTMENT_DAYS_AHEAD`` days ahead. Reading "周六上午" from
a sentence is the dialogue's job; ``slot_for`` checks a (date, period) and says what is wrong.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Literal

import redis.asyncio
from pydantic import BaseModel, ConfigDict, Field

from records.cas import AlreadyApplied, Op, run_script, script_sha, update_loop
from records.errors import Conflict, Invalid, NotFound
from records.service_hours import ServiceSettings, day_kind, is_open, local

SCHEMA_VERSION = 1
PREFIX = "yjs:appt:"
# Booking codes: no 0/O, 1/I/L look-alikes; 31^6 ≈ 890 million codes.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6

PERIOD_LABELS = {"am": "上午", "pm": "下午"}
WEEKDAY_LABELS = "一二三四五六日"


def booking_key(code: str) -> str:
    return f"{PREFIX}booking:{code}"


def slot_key(day: date, period: str) -> str:
    return f"{PREFIX}slot:{day.isoformat()}:{period}"


def day_key(day: date) -> str:
    return f"{PREFIX}day:{day.isoformat()}"


def conversation_key(conversation: str) -> str:
    return f"{PREFIX}by_conv:{conversation}"


class SlotError(Invalid):
    """A (date, period) that cannot be booked; ``reason`` for code, ``message`` for the person."""

    def __init__(self, reason: Literal["bad_date", "unknown_period", "past", "closed", "too_far"], message: str) -> None:
        super().__init__(reason, message=message)
        self.reason = reason


class SlotFull(Conflict):
    message = "这个时段已经约满了，换个时间好吗？"


class AlreadyBooked(Conflict):
    message = "您已经约了这个时段。"

    def __init__(self, booking: Booking) -> None:
        super().__init__(f"already booked: {booking.code}", message=f"您已经约了这个时段，预约码是 {booking.code}。")
        self.booking = booking


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Slot(_Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    date: date
    period: str  # a name from APPOINTMENT_PERIODS: am / pm by default

    def label(self, settings: ServiceSettings) -> str:
        start, end = settings.periods[self.period]
        name = PERIOD_LABELS.get(self.period, self.period)
        return (
            f"{self.date.month}月{self.date.day}日（周{WEEKDAY_LABELS[self.date.weekday()]}）{name} "
            f"{start:%H:%M}-{end:%H:%M}"
        )


class SlotAvailability(_Model):
    slot: Slot
    label: str
    capacity: int
    booked: int
    remaining: int


class BookingStatus(str, Enum):
    booked = "booked"
    cancelled = "cancelled"
    attended = "attended"
    no_show = "no_show"


class Booking(_Model):
    schema_version: int = SCHEMA_VERSION
    code: str
    date: date
    period: str
    conversation: str
    channel: str = "rest"
    thing_code: str | None = None
    thing_title: str | None = None
    checklist: str | None = None
    status: BookingStatus = BookingStatus.booked
    created_at: float = Field(default_factory=time.time)
    updated_at: float | None = None
    cancelled_at: float | None = None
    marked_at: float | None = None
    marked_by: str | None = None  # staff username who marked attended / no-show

    @property
    def slot(self) -> Slot:
        return Slot(date=self.date, period=self.period)


def slot_for(
    day: date | str, period: str, now: float | datetime | None = None, settings: ServiceSettings | None = None
) -> Slot:
    """A bookable slot, or ``SlotError`` saying why not (past, closed day, unknown period, too far)."""
    settings = settings or ServiceSettings.from_env()
    if isinstance(day, str):
        try:
            day = date.fromisoformat(day)
        except ValueError as exc:
            raise SlotError("bad_date", "日期没看明白，请说几月几号。") from exc
    if period not in settings.periods:
        names = "、".join(PERIOD_LABELS.get(p, p) for p in settings.periods)
        raise SlotError("unknown_period", f"可以约的时段是{names}，请选一个。")
    at = local(time.time() if now is None else now, settings)
    _, end = settings.periods[period]
    if datetime.combine(day, end, settings.tz) <= at:
        raise SlotError("past", "这个时间已经过去了，请选以后的时间。")
    if day > at.date() + timedelta(days=settings.days_ahead - 1):
        raise SlotError("too_far", f"最多可以约{settings.days_ahead}天以内的时间。")
    if period not in settings.slots.get(day_kind(day, settings), {}):
        raise SlotError("closed", "这个时段不接受预约，请换一天或换个时段。")
    return Slot(date=day, period=period)


class OfferReason(str, Enum):
    closed = "closed"  # outside service hours (evening, weekend, holiday)
    long_wait = "long_wait"  # the queue's estimated wait is over APPOINTMENT_OFFER_WAIT_MINUTES


def offer_instead_of_queue(
    now: float | datetime, estimated_wait_seconds: float, settings: ServiceSettings | None = None
) -> OfferReason | None:
    """Whether a person asking for staff is offered an appointment before joining the queue, and why
    (the one place this is decided)."""
    settings = settings or ServiceSettings.from_env()
    if not is_open(now, settings):
        return OfferReason.closed
    if estimated_wait_seconds > settings.offer_wait_minutes * 60:
        return OfferReason.long_wait
    return None


def capacity(slot: Slot, settings: ServiceSettings) -> int:
    return settings.slots.get(day_kind(slot.date, settings), {}).get(slot.period, 0)


async def available_slots(
    client: redis.asyncio.Redis,
    from_date: date,
    days: int,
    now: float | datetime | None = None,
    settings: ServiceSettings | None = None,
) -> list[SlotAvailability]:
    """Every bookable slot from ``from_date`` for ``days`` days, with places left (full ones too)."""
    settings = settings or ServiceSettings.from_env()
    slots: list[Slot] = []
    for offset in range(max(0, days)):
        for period in settings.periods:
            try:
                slots.append(slot_for(from_date + timedelta(days=offset), period, now, settings))
            except SlotError:
                continue
    if not slots:
        return []
    async with client.pipeline(transaction=False) as pipe:
        for slot in slots:
            pipe.hlen(slot_key(slot.date, slot.period))
        taken = await pipe.execute()
    result = []
    for slot, used in zip(slots, taken, strict=True):
        places = capacity(slot, settings)
        result.append(
            SlotAvailability(
                slot=slot, label=slot.label(settings), capacity=places, booked=int(used), remaining=max(0, places - int(used))
            )
        )
    return result


_BOOK = """
local existing = redis.call('HGET', KEYS[1], ARGV[2])
if existing then return {'taken', existing} end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[1]) then return {'full', ''} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {'code', ''} end
redis.call('SET', KEYS[2], ARGV[4])
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[3])
redis.call('SADD', KEYS[4], ARGV[3])
return {'ok', ARGV[3]}
"""
_BOOK_SHA = script_sha(_BOOK)


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


async def book(
    client: redis.asyncio.Redis,
    slot: Slot,
    conversation: str,
    channel: str = "rest",
    thing_code: str | None = None,
    thing_title: str | None = None,
    checklist: str | None = None,
    now: float | None = None,
    settings: ServiceSettings | None = None,
) -> Booking:
    """Take a place: ``SlotFull`` when none is left, ``AlreadyBooked`` when this conversation holds
    one in the slot already, ``SlotError`` when the slot cannot be booked (any more)."""
    settings = settings or ServiceSettings.from_env()
    now = time.time() if now is None else now
    slot = slot_for(slot.date, slot.period, now, settings)
    if not conversation:
        raise Invalid("no conversation")
    keys = [slot_key(slot.date, slot.period), "", day_key(slot.date), conversation_key(conversation)]
    for _ in range(5):
        booking = Booking(
            code=new_code(),
            date=slot.date,
            period=slot.period,
            conversation=conversation,
            channel=channel,
            thing_code=thing_code,
            thing_title=thing_title,
            checklist=checklist,
            created_at=now,
        )
        keys[1] = booking_key(booking.code)
        args = [capacity(slot, settings), conversation, booking.code, booking.model_dump_json(), repr(now)]
        verdict, code = (_text(x) for x in await run_script(client, _BOOK, _BOOK_SHA, keys, args))
        if verdict == "ok":
            return booking
        if verdict == "full":
            raise SlotFull(f"{slot.date} {slot.period} is full")
        if verdict == "taken" and code == booking.code:
            return booking  # a retried request that had gone through
        if verdict == "taken":
            existing = await get_booking(client, code)
            if existing is None:  # pragma: no cover - the hash and the record are written together
                raise Conflict("booking index out of step")
            raise AlreadyBooked(existing)
    raise Conflict("could not find a free booking code")  # pragma: no cover - 1 in 10^8 odds, 5 times


def _text(value: object) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def normalize_code(code: str) -> str:
    """A code as typed or read out: spaces dropped, lower case accepted."""
    return "".join(code.split()).upper()


async def get_booking(client: redis.asyncio.Redis, code: str) -> Booking | None:
    raw = await client.get(booking_key(normalize_code(code)))
    return Booking.model_validate_json(raw) if raw else None


async def _bookings(client: redis.asyncio.Redis, codes: Sequence[str]) -> list[Booking]:
    if not codes:
        return []
    raws = await client.mget([booking_key(_text(c)) for c in codes])
    return [Booking.model_validate_json(r) for r in raws if r]


def _period_order(settings: ServiceSettings, booking: Booking) -> tuple[date, int, float]:
    names = list(settings.periods)
    index = names.index(booking.period) if booking.period in names else len(names)
    return booking.date, index, booking.created_at


async def bookings_for(
    client: redis.asyncio.Redis, conversation: str, active_only: bool = True, settings: ServiceSettings | None = None
) -> list[Booking]:
    """A conversation's bookings, soonest first (only the still booked ones by default)."""
    settings = settings or ServiceSettings.from_env()
    found = await _bookings(client, list(await client.smembers(conversation_key(conversation))))
    if active_only:
        found = [b for b in found if b.status == BookingStatus.booked]
    return sorted(found, key=lambda b: _period_order(settings, b))


async def list_day(
    client: redis.asyncio.Redis, day: date, include_cancelled: bool = False, settings: ServiceSettings | None = None
) -> list[Booking]:
    """The day's bookings for the console: by half-day, then in booking order."""
    settings = settings or ServiceSettings.from_env()
    found = await _bookings(client, list(await client.zrange(day_key(day), 0, -1)))
    if not include_cancelled:
        found = [b for b in found if b.status != BookingStatus.cancelled]
    return sorted(found, key=lambda b: _period_order(settings, b))


def _load(raw: str) -> Booking:
    return Booking.model_validate_json(raw)


def _dump(booking: Booking) -> str:
    return booking.model_dump_json()


async def cancel(client: redis.asyncio.Redis, code: str, conversation: str, now: float | None = None) -> Booking:
    """Cancel a booking of this conversation and free its place (a repeated cancel returns it as is).
    Someone else's code answers ``NotFound``, like an unknown one."""
    code = normalize_code(code)
    now = time.time() if now is None else now

    def change(b: Booking) -> tuple[Booking, Sequence[Op]]:
        if b.conversation != conversation:
            raise NotFound(code, message="没有找到这个预约码。")
        if b.status == BookingStatus.cancelled:
            raise AlreadyApplied(b)
        if b.status != BookingStatus.booked:
            raise Conflict(f"booking {code} is {b.status.value}", message="这个预约已经办理过了，不能取消。")
        new = b.model_copy(update={"status": BookingStatus.cancelled, "cancelled_at": now, "updated_at": now})
        return new, [("HDELIFEQ", slot_key(b.date, b.period), b.conversation, b.code)]

    try:
        booking, _ = await update_loop(client, booking_key(code), _load, _dump, change)
    except AlreadyApplied as same:
        return same.record
    except NotFound as exc:
        raise NotFound(code, message="没有找到这个预约码。") from exc
    return booking


async def mark(
    client: redis.asyncio.Redis,
    code: str,
    status: BookingStatus | Literal["attended", "no_show"],
    staff: str | None = None,
    now: float | None = None,
) -> Booking:
    """Staff mark a booking attended or no-show (a mark can be corrected; a cancelled one cannot)."""
    code = normalize_code(code)
    status = BookingStatus(status)
    if status not in (BookingStatus.attended, BookingStatus.no_show):
        raise Invalid(f"cannot mark {status.value}", message="只能标记为已到或未到。")
    now = time.time() if now is None else now

    def change(b: Booking) -> tuple[Booking, Sequence[Op]]:
        if b.status == BookingStatus.cancelled:
            raise Conflict(f"booking {code} is cancelled", message="这个预约已经取消了。")
        return b.model_copy(update={"status": status, "marked_at": now, "marked_by": staff, "updated_at": now}), []

    booking, _ = await update_loop(client, booking_key(code), _load, _dump, change)
    return booking


