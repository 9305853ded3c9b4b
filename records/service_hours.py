"""When the county centre's staff work, and which days and half-days take 帮代办 appointments.

One settings object, ``ServiceSettings.from_env()``; every variable is optional:

| Variable | Default | Meaning |
|---|---|---|
| ``SERVICE_UTC_OFFSET`` | ``+08:00`` | the county's clock (China has no summer time) |
| ``SERVICE_HOURS`` | ``09:00-12:00,13:30-17:00`` | staff hours on a working day (``is_open``) |
| ``SERVICE_WEEKDAYS`` | ``mon,tue,wed,thu,fri`` | the usual working days |
| ``APPOINTMENT_HOLIDAYS`` | (none) | public holidays, ``2026-10-01,2026-10-02``: closed, holiday slots |
| ``APPOINTMENT_WORKDAYS`` | (none) | weekend days worked instead (调休), same format: open as a working day |
| ``APPOINTMENT_HOLIDAYS_FILE`` | (none) | a YAML file ``{holidays: [dates], workdays: [dates]}``, added to the two lists |
| ``APPOINTMENT_PERIODS`` | ``am=09:00-12:00,pm=13:30-17:00`` | the half-days and their times |
| ``APPOINTMENT_SLOTS`` | ``workday:am=10,pm=10;weekend:am=10,pm=10;holiday:am=10,pm=10`` | places per half-day by kind of day; a kind or period left out has no slots |
| ``APPOINTMENT_DAYS_AHEAD`` | ``14`` | how far ahead a slot can be booked (days, today included) |
| ``APPOINTMENT_OFFER_WAIT_MINUTES`` | ``30`` | a handoff whose estimated wait is longer is offered an appointment first |

No Redis keys here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta, timezone
from enum import Enum
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict

from records.errors import Invalid

T = TypeVar("T")

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class DayKind(str, Enum):
    workday = "workday"
    weekend = "weekend"  # a Saturday or Sunday (or any usual day off) that is not a holiday
    holiday = "holiday"


class ServiceSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    utc_offset: timedelta = timedelta(hours=8)
    hours: tuple[tuple[time, time], ...] = ((time(9), time(12)), (time(13, 30), time(17)))
    weekdays: frozenset[int] = frozenset(range(5))  # 0 = Monday
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    periods: dict[str, tuple[time, time]] = {"am": (time(9), time(12)), "pm": (time(13, 30), time(17))}
    slots: dict[DayKind, dict[str, int]] = {kind: {"am": 10, "pm": 10} for kind in DayKind}
    days_ahead: int = 14
    offer_wait_minutes: int = 30

    @property
    def tz(self) -> timezone:
        return timezone(self.utc_offset)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ServiceSettings:
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        if v := env.get("SERVICE_UTC_OFFSET"):
            values["utc_offset"] = _offset("SERVICE_UTC_OFFSET", v)
        if v := env.get("SERVICE_HOURS"):
            values["hours"] = tuple(_range("SERVICE_HOURS", part) for part in _parts(v))
        if v := env.get("SERVICE_WEEKDAYS"):
            values["weekdays"] = frozenset(_weekday(part) for part in _parts(v))
        holidays = {_date("APPOINTMENT_HOLIDAYS", p) for p in _parts(env.get("APPOINTMENT_HOLIDAYS", ""))}
        workdays = {_date("APPOINTMENT_WORKDAYS", p) for p in _parts(env.get("APPOINTMENT_WORKDAYS", ""))}
        if path := env.get("APPOINTMENT_HOLIDAYS_FILE"):
            file_holidays, file_workdays = _holiday_file(Path(path))
            holidays |= file_holidays
            workdays |= file_workdays
        values["holidays"] = frozenset(holidays)
        values["workdays"] = frozenset(workdays)
        if v := env.get("APPOINTMENT_PERIODS"):
            values["periods"] = dict(_pair("APPOINTMENT_PERIODS", p, _range) for p in _parts(v))
        if v := env.get("APPOINTMENT_SLOTS"):
            values["slots"] = _slots(v)
        if v := env.get("APPOINTMENT_DAYS_AHEAD"):
            if not v.strip().isdigit() or int(v) < 1:
                raise Invalid(f"APPOINTMENT_DAYS_AHEAD must be a whole number of days (1 or more), not {v!r}.")
            values["days_ahead"] = int(v)
        if v := env.get("APPOINTMENT_OFFER_WAIT_MINUTES"):
            if not v.strip().isdigit():
                raise Invalid(f"APPOINTMENT_OFFER_WAIT_MINUTES must be a whole number of minutes, not {v!r}.")
            values["offer_wait_minutes"] = int(v)
        settings = cls.model_validate(values)
        for kind, periods in settings.slots.items():
            unknown = set(periods) - set(settings.periods)
            if unknown:
                raise Invalid(f"APPOINTMENT_SLOTS names {sorted(unknown)} for {kind.value}, not in APPOINTMENT_PERIODS.")
        return settings


def _parts(value: str, sep: str = ",") -> list[str]:
    return [p.strip() for p in value.split(sep) if p.strip()]


def _offset(name: str, value: str) -> timedelta:
    sign = -1 if value.startswith("-") else 1
    try:
        hours, _, minutes = value.lstrip("+-").partition(":")
        return sign * timedelta(hours=int(hours), minutes=int(minutes or 0))
    except ValueError as exc:
        raise Invalid(f"{name} must look like +08:00, not {value!r}.") from exc


def _clock(name: str, value: str) -> time:
    try:
        return time.fromisoformat(value.strip())
    except ValueError as exc:
        raise Invalid(f"{name}: {value!r} is not a time like 09:00.") from exc


def _range(name: str, value: str) -> tuple[time, time]:
    start, sep, end = value.partition("-")
    begin, finish = _clock(name, start), _clock(name, end) if sep else None
    if finish is None or finish <= begin:
        raise Invalid(f"{name}: {value!r} is not a range like 09:00-12:00.")
    return begin, finish


def _weekday(value: str) -> int:
    if value.lower()[:3] not in WEEKDAY_NAMES:
        raise Invalid(f"SERVICE_WEEKDAYS: {value!r} is not one of {', '.join(WEEKDAY_NAMES)}.")
    return WEEKDAY_NAMES.index(value.lower()[:3])


def _date(name: str, value: str) -> date:
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise Invalid(f"{name}: {value!r} is not a date like 2026-10-01.") from exc


def _pair(name: str, value: str, parse: Callable[[str, str], T]) -> tuple[str, T]:
    key, sep, rest = value.partition("=")
    if not sep or not key.strip():
        raise Invalid(f"{name}: {value!r} is not like name=value.")
    return key.strip(), parse(name, rest)


def _capacity(name: str, value: str) -> int:
    if not value.strip().isdigit():
        raise Invalid(f"{name}: {value!r} is not a number of places.")
    return int(value)


def _slots(value: str) -> dict[DayKind, dict[str, int]]:
    slots: dict[DayKind, dict[str, int]] = {}
    for group in _parts(value, ";"):
        kind, sep, periods = group.partition(":")
        try:
            day_kind = DayKind(kind.strip())
        except ValueError as exc:
            raise Invalid(f"APPOINTMENT_SLOTS: {kind!r} is not workday, weekend or holiday.") from exc
        slots[day_kind] = dict(_pair("APPOINTMENT_SLOTS", p, _capacity) for p in _parts(periods)) if sep else {}
    return slots


def _holiday_file(path: Path) -> tuple[set[date], set[date]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise Invalid(f"APPOINTMENT_HOLIDAYS_FILE {path} cannot be read: {exc}") from exc
    if not isinstance(data, dict):
        raise Invalid(f"APPOINTMENT_HOLIDAYS_FILE {path} must hold 'holidays:' and 'workdays:' lists.")
    return (
        {_date("APPOINTMENT_HOLIDAYS_FILE", d) for d in data.get("holidays") or []},
        {_date("APPOINTMENT_HOLIDAYS_FILE", d) for d in data.get("workdays") or []},
    )


def local(now: float | datetime, settings: ServiceSettings) -> datetime:
    """``now`` (unix seconds or an aware datetime) on the county's clock."""
    if isinstance(now, datetime):
        return now.astimezone(settings.tz)
    return datetime.fromtimestamp(now, settings.tz)


def day_kind(day: date, settings: ServiceSettings) -> DayKind:
    if day in settings.holidays:
        return DayKind.holiday
    if day in settings.workdays or day.weekday() in settings.weekdays:
        return DayKind.workday
    return DayKind.weekend


def is_open(now: float | datetime, settings: ServiceSettings | None = None) -> bool:
    """Staff are at work now (a working day, within ``SERVICE_HOURS``)."""
    settings = settings or ServiceSettings.from_env()
    at = local(now, settings)
    if day_kind(at.date(), settings) != DayKind.workday:
        return False
    return any(start <= at.time() < end for start, end in settings.hours)


def next_open(now: float | datetime, settings: ServiceSettings | None = None) -> datetime:
    """When staff are next at work (``now`` itself when open), on the county's clock."""
    settings = settings or ServiceSettings.from_env()
    at = local(now, settings)
    if is_open(at, settings):
        return at
    for offset in range(0, 370):
        day = at.date() + timedelta(days=offset)
        if day_kind(day, settings) != DayKind.workday:
            continue
        for start, _ in sorted(settings.hours):
            opening = datetime.combine(day, start, settings.tz)
            if opening > at:
                return opening
    raise Invalid("no working day in the coming year: check SERVICE_WEEKDAYS and APPOINTMENT_HOLIDAYS.")
