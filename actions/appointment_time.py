"""Read the day and the half-day of an appointment from what a person says: 周六上午, 明天下午,
下个礼拜三, 12月12号上午, 后日上昼 (Xiang: 上昼 = morning, 下昼 = afternoon), 2026-12-12.

Pure functions: the sentence and "today" in, a :class:`When` out. Whether that (day, half-day) can
be booked is ``records.appointments.slot_for``'s decision, not this module's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUM = r"[0-9０-９]{1,2}|[一二两三四五六七八九十]{1,3}"

# Relative days: the longest words first (大后天 before 后天).
RELATIVE_DAYS: tuple[tuple[str, int], ...] = (
    ("大后天", 3),
    ("大后日", 3),
    ("今天", 0),
    ("今日", 0),
    ("今朝", 0),
    ("明天", 1),
    ("明日", 1),
    ("明朝", 1),
    ("明早", 1),
    ("后天", 2),
    ("后日", 2),
)
WEEKDAY_CHARS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
for _n in range(1, 8):
    WEEKDAY_CHARS[str(_n)] = _n - 1
_WEEKDAY_RE = re.compile(r"(下下|下个?|这个?|本)?(?:周|星期|礼拜)([一二三四五六日天末1-7])")
_ISO_RE = re.compile(r"(20\d\d)[-/.年](\d{1,2})[-/.月](\d{1,2})")
_MONTH_DAY_RE = re.compile(rf"({_NUM})月份?({_NUM})[日号]?")
_DAY_ONLY_RE = re.compile(rf"(?<![月\d０-９一二两三四五六七八九十])({_NUM})[日号]")

# Half-days by the names in APPOINTMENT_PERIODS (am / pm by default).
PERIOD_WORDS: dict[str, tuple[str, ...]] = {
    "am": ("上午", "早上", "早晨", "上昼", "早些", "一早", "明早", "早点"),
    "pm": ("下午", "下昼", "午后", "中午过后", "吃了中饭", "过了中午"),
}


@dataclass(frozen=True)
class When:
    day: date | None = None
    period: str | None = None
    # "周末": the Saturday and Sunday meant (either will do), the person did not say which.
    weekend: tuple[date, ...] = ()


def chinese_number(text: str) -> int | None:
    """1..99 from 3 / 12 / 三 / 十二 / 二十 / 廿 / 三十一; None when it is not a number."""
    text = text.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if text.isdigit():
        return int(text)
    if not text or any(ch not in DIGITS and ch != "十" for ch in text):
        return None
    if "十" not in text:
        return DIGITS[text] if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    if "十" in ones or len(tens) > 1 or len(ones) > 1:
        return None
    return (DIGITS[tens] if tens else 1) * 10 + (DIGITS[ones] if ones else 0)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _month_day(text: str, today: date) -> date | None:
    if m := _ISO_RE.search(text):
        return _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if m := _MONTH_DAY_RE.search(text):
        month, day = chinese_number(m.group(1)), chinese_number(m.group(2))
        if month is None or day is None:
            return None
        found = _safe_date(today.year, month, day)
        if found is not None and found < today:  # 1月5号 said in December: next year
            found = _safe_date(today.year + 1, month, day)
        return found
    if m := _DAY_ONLY_RE.search(text):
        day = chinese_number(m.group(1))
        if day is None:
            return None
        found = _safe_date(today.year, today.month, day)
        if found is None or found < today:  # 3号 said on the 20th: next month
            month, year = (1, today.year + 1) if today.month == 12 else (today.month + 1, today.year)
            found = _safe_date(year, month, day)
        return found
    return None


def _weekday(text: str, today: date) -> tuple[date | None, tuple[date, ...]]:
    m = _WEEKDAY_RE.search(text)
    if m is None:
        return None, ()
    which, char = m.group(1) or "", m.group(2)
    monday = today - timedelta(days=today.weekday())
    if which.startswith("下下"):
        monday += timedelta(days=14)
    elif which.startswith("下"):
        monday += timedelta(days=7)
    if char == "末":
        days = tuple(d for d in (monday + timedelta(days=5), monday + timedelta(days=6)) if d >= today)
        return None, days or (monday + timedelta(days=12), monday + timedelta(days=13))
    day = monday + timedelta(days=WEEKDAY_CHARS[char])
    if day < today and not which:  # plain 周三 said on a Friday: the coming one
        day += timedelta(days=7)
    return day, ()


def parse_when(text: str, today: date) -> When:
    """The day and half-day named in ``text`` (each None when not said)."""
    text = "".join(text.split())
    period = next((name for name, words in PERIOD_WORDS.items() if any(w in text for w in words)), None)
    day = _month_day(text, today)
    weekend: tuple[date, ...] = ()
    if day is None:
        day, weekend = _weekday(text, today)
    if day is None and not weekend:
        day = next((today + timedelta(days=n) for word, n in RELATIVE_DAYS if word in text), None)
    return When(day=day, period=period, weekend=weekend)
