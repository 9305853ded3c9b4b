"""Reading the day and half-day of an appointment from everyday Chinese (actions.appointment_time)."""

from __future__ import annotations

from datetime import date

import pytest

from actions.appointment_time import chinese_number, parse_when

SUNDAY = date(2026, 12, 6)
WEDNESDAY = date(2026, 12, 9)


@pytest.mark.parametrize(
    ("text", "today", "day", "period"),
    [
        ("我想预约周六上午", SUNDAY, date(2026, 12, 12), "am"),  # this week's Saturday is past: the next
        ("我想预约周六上午", WEDNESDAY, date(2026, 12, 12), "am"),
        ("约礼拜六早上", WEDNESDAY, date(2026, 12, 12), "am"),
        ("星期天下午", WEDNESDAY, date(2026, 12, 13), "pm"),
        ("周三", WEDNESDAY, WEDNESDAY, None),  # today
        ("周一上午", WEDNESDAY, date(2026, 12, 14), "am"),  # the coming Monday, not the past one
        ("下个礼拜三", WEDNESDAY, date(2026, 12, 16), None),
        ("下周一上午", SUNDAY, date(2026, 12, 7), "am"),  # weeks start on Monday
        ("下下周二", WEDNESDAY, date(2026, 12, 22), None),
        ("明天下午", SUNDAY, date(2026, 12, 7), "pm"),
        ("后日上昼", SUNDAY, date(2026, 12, 8), "am"),  # Xiang: 后日 = 后天, 上昼 = 上午
        ("明日下昼", SUNDAY, date(2026, 12, 7), "pm"),
        ("大后天上午", SUNDAY, date(2026, 12, 9), "am"),
        ("今天", SUNDAY, SUNDAY, None),
        ("12月12号上午", SUNDAY, date(2026, 12, 12), "am"),
        ("十二月二十号下午", SUNDAY, date(2026, 12, 20), "pm"),
        ("1月5日", SUNDAY, date(2027, 1, 5), None),  # a January date said in December: next year
        ("3号下午", SUNDAY, date(2027, 1, 3), "pm"),  # the 3rd said on the 6th: next month
        ("20号", SUNDAY, date(2026, 12, 20), None),
        ("2026-12-12", SUNDAY, date(2026, 12, 12), None),
        ("２０２６年１２月１２日", SUNDAY, date(2026, 12, 12), None),
        ("预约", SUNDAY, None, None),
        ("取消预约", SUNDAY, None, None),
        ("我家伢子8岁了", SUNDAY, None, None),  # an age is not a day
        ("下午有空", SUNDAY, None, "pm"),
        ("2月30号", SUNDAY, None, None),  # no such day
    ],
)
def test_day_and_half_day(text: str, today: date, day: date | None, period: str | None) -> None:
    when = parse_when(text, today)
    assert (when.day, when.period) == (day, period)


def test_the_weekend_offers_both_days_still_ahead() -> None:
    assert parse_when("周末下午", WEDNESDAY).weekend == (date(2026, 12, 12), date(2026, 12, 13))
    assert parse_when("周末", SUNDAY).weekend == (SUNDAY,)  # Saturday has gone
    assert parse_when("下周末", WEDNESDAY).weekend == (date(2026, 12, 19), date(2026, 12, 20))
    assert parse_when("周末下午", WEDNESDAY).day is None


@pytest.mark.parametrize(
    ("text", "value"),
    [("3", 3), ("12", 12), ("三", 3), ("十", 10), ("十二", 12), ("二十", 20), ("三十一", 31), ("两", 2), ("１２", 12),
     ("十十", None), ("", None), ("一二", None), ("百", None)],
)
def test_chinese_numbers(text: str, value: int | None) -> None:
    assert chinese_number(text) == value
