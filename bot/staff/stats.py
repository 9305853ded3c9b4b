"""The day's figures for the console: waiting now, average wait, handled, 办结率, satisfaction, by hour.

A day is a calendar day on the county's clock (``SERVICE_UTC_OFFSET``). Sources:

- waiting now: the queue (``yjs:handoff:queue``), always "now", whatever the day asked;
- average wait: tickets *taken* that day (``claimed_at`` in the day), ``claimed_at − created_at``;
  found among the tickets still claimed and those closed since the day began;
- handled: tickets *closed* that day; 办结率 = closed with outcome ``done`` ÷ closed;
- satisfaction: the 好差评 ratings given that day (``yjs:ratings``, any channel), mean level 1-5;
  ``staff_satisfaction`` the same for the ratings of the human service only (``served_by == "staff"``,
  asked when staff give a conversation back);
- by hour (24 entries): tickets created, taken and closed in each hour.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from datetime import time as dtime
from typing import Any

from redis.asyncio import Redis

from records.case_model import Rating
from records.case_store import RATINGS_KEY, rating_key
from records.service_hours import ServiceSettings
from records.ticket_model import CloseOutcome, HandoffTicket
from records.tickets import CLAIMED_KEY, CLOSED_KEY, QUEUE_KEY, get_tickets


def _ids(values: list[Any]) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def day_bounds(day: date, service: ServiceSettings) -> tuple[float, float]:
    start = datetime.combine(day, dtime(0), service.tz)
    return start.timestamp(), (start + timedelta(days=1)).timestamp()


def _hour(ts: float, service: ServiceSettings) -> int:
    return datetime.fromtimestamp(ts, service.tz).hour


async def ratings_between(redis: Redis, start: float, end: float) -> list[Rating]:
    ids = _ids(await redis.zrangebyscore(RATINGS_KEY, start, f"({end}"))
    if not ids:
        return []
    raws = await redis.mget([rating_key(i) for i in ids])
    return [Rating.model_validate_json(r) for r in raws if r]


async def day_stats(redis: Redis, day: date, service: ServiceSettings, now: float | None = None) -> dict[str, Any]:
    now = time.time() if now is None else now
    start, end = day_bounds(day, service)
    waiting = await get_tickets(redis, _ids(await redis.zrange(QUEUE_KEY, 0, -1)))
    claimed_ids = _ids(await redis.zrange(CLAIMED_KEY, 0, -1))
    closed_ids = _ids(await redis.zrangebyscore(CLOSED_KEY, start, "+inf"))
    seen: dict[str, HandoffTicket] = {}
    for t in [*waiting, *await get_tickets(redis, list(dict.fromkeys(claimed_ids + closed_ids)))]:
        seen[t.id] = t
    tickets = list(seen.values())

    def in_day(ts: float | None) -> bool:
        return ts is not None and start <= ts < end

    taken = [t for t in tickets if in_day(t.claimed_at)]
    closed = [t for t in tickets if in_day(t.closed_at)]
    done = [t for t in closed if t.outcome == CloseOutcome.done]
    waits = [t.claimed_at - t.created_at for t in taken if t.claimed_at is not None]
    ratings = await ratings_between(redis, start, end)

    hourly = [{"hour": h, "created": 0, "claimed": 0, "closed": 0} for h in range(24)]
    for t in tickets:
        if in_day(t.created_at):
            hourly[_hour(t.created_at, service)]["created"] += 1
        if in_day(t.claimed_at):
            hourly[_hour(t.claimed_at or 0.0, service)]["claimed"] += 1
        if in_day(t.closed_at):
            hourly[_hour(t.closed_at or 0.0, service)]["closed"] += 1

    return {
        "date": day.isoformat(),
        "waiting_now": len(waiting),
        "priority_waiting_now": sum(1 for t in waiting if t.priority),
        "longest_wait_seconds": max((round(now - t.created_at) for t in waiting), default=0),
        "claimed": len(taken),
        "average_wait_seconds": round(sum(waits) / len(waits)) if waits else None,
        "handled": len(closed),
        "done": len(done),
        "done_rate": round(len(done) / len(closed), 4) if closed else None,
        "outcomes": {o.value: sum(1 for t in closed if t.outcome == o) for o in CloseOutcome},
        "satisfaction": _satisfaction(ratings),
        "staff_satisfaction": _satisfaction([r for r in ratings if r.served_by == "staff"]),
        "hourly": hourly,
    }


def _satisfaction(ratings: list[Rating]) -> dict[str, Any]:
    return {
        "count": len(ratings),
        "average": round(sum(r.level for r in ratings) / len(ratings), 2) if ratings else None,
        "satisfied": sum(1 for r in ratings if r.level >= 4),
    }
