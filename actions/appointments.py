"""帮代办 appointments in the chat (docs/appointments.md): book (我想预约周六上午), see (我的预约) and
cancel (取消预约) a half-day at the county centre, with the one thing and its checklist attached and
a booking code to show at the window.

The records are ``records.appointments`` (slots, places, codes); this module reads the day and the
half-day from the sentence (``actions.appointment_time``), offers the free half-days as buttons when
the person did not say (or said one that cannot be booked) and renders the answers.
``action_handoff`` offers the same buttons outside service hours or when the wait is long.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import redis.asyncio
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import checklist_state as st
from actions import knowledge_client
from actions.appointment_time import When, parse_when
from actions.casework import channel_of, redis_client
from actions.checklist import build, render_list
from actions.config import SETTINGS
from actions.find_thing import SLOT_THING, latest_entity
from actions.latest import latest_text
from actions.write_limits import WriteKind, WriteLimited, check_write
from knowledge.checklist import build_checklist, render_checklist
from records import appointments as appt
from records.appointments import Booking, Slot, SlotAvailability, SlotError
from records.client import async_client
from records.errors import Conflict, NotFound
from records.service_hours import ServiceSettings, local

logger = logging.getLogger(__name__)

SLOT_ENTITY = "appt_slot"  # "2026-12-12:am" from a slot button
CODE_ENTITY = "appt_code"  # a booking code from a cancel button
BOOK_PREFIX = "/book_appointment"
CANCEL_PREFIX = "/cancel_appointment"
MAX_OFFERED = 6  # slot buttons shown at once
# A booking code as typed: 6 characters of the code alphabet, any case, not inside a longer word.
CODE_RE = re.compile(r"(?<![0-9A-Za-z])([2-9A-HJKMNP-Za-hjkmnp-z]{6})(?![0-9A-Za-z])")


@asynccontextmanager
async def records_client() -> AsyncIterator[redis.asyncio.Redis]:
    client = async_client(SETTINGS.redis_url)
    try:
        yield client
    finally:
        await client.aclose()


def _payload(prefix: str, entity: str, value: str) -> str:
    return prefix + json.dumps({entity: value}, ensure_ascii=False, separators=(",", ":"))


def slot_payload(slot: Slot) -> str:
    return _payload(BOOK_PREFIX, SLOT_ENTITY, f"{slot.date.isoformat()}:{slot.period}")


def cancel_payload(code: str) -> str:
    return _payload(CANCEL_PREFIX, CODE_ENTITY, code)


def slot_from_entity(value: str | None) -> When | None:
    """The (day, half-day) of a slot button, None when there is no (valid) one."""
    if not value:
        return None
    day, _, period = value.partition(":")
    try:
        return When(day=date.fromisoformat(day), period=period or None)
    except ValueError:
        return None


def slot_buttons(free: list[SlotAvailability]) -> list[dict[str, str]]:
    return [
        {"title": f"{a.label}（还有{a.remaining}个）", "payload": slot_payload(a.slot)}
        for a in free[:MAX_OFFERED]
    ]


async def free_slots(
    client: redis.asyncio.Redis, when: When, now: float, settings: ServiceSettings
) -> list[SlotAvailability]:
    """The bookable half-days with places left: those that fit what was said (the day, the weekend,
    the half-day; else the other half-day of that day) first, then the soonest others."""
    today = local(now, settings).date()
    every = [a for a in await appt.available_slots(client, today, settings.days_ahead, now, settings) if a.remaining]
    days = {when.day} if when.day else set(when.weekend)
    fitting = [a for a in every if (not days or a.slot.date in days) and (not when.period or a.slot.period == when.period)]
    if not fitting and when.period and days:  # that half-day is full or closed: the other one that day
        fitting = [a for a in every if a.slot.date in days]
    return fitting + [a for a in every if a not in fitting]


def place_line() -> str:
    return f"地点：{SETTINGS.centre_name}（{SETTINGS.centre_address}），到帮代办窗口出示预约码。"


def booking_lines(booking: Booking, settings: ServiceSettings) -> list[str]:
    lines = [f"预约码：{booking.code}", f"时间：{booking.slot.label(settings)}"]
    lines.append(f"要办的事：{booking.thing_title}" if booking.thing_title else "要办的事：到时候跟工作人员说")
    return lines


def booking_card(booking: Booking, settings: ServiceSettings) -> dict[str, Any]:
    """The booking as data for the channels (the kiosk and Telegram can show it as a card)."""
    return {
        "appointment": {
            "code": booking.code,
            "date": booking.date.isoformat(),
            "period": booking.period,
            "label": booking.slot.label(settings),
            "thing_code": booking.thing_code,
            "thing_title": booking.thing_title,
            "place": f"{SETTINGS.centre_name}（{SETTINGS.centre_address}）",
        }
    }


async def thing_and_checklist(tracker: Tracker) -> tuple[str | None, str | None, str | None]:
    """The conversation's one thing and the checklist to bring (the person's own list when they
    answered its questions, else the general one)."""
    code = tracker.get_slot(SLOT_THING)
    if not code:
        return None, None, None
    theme = await knowledge_client.get_theme(str(code))
    if theme is None:
        return None, None, None
    state = st.load_state(tracker.get_slot(st.SLOT_FACTS))
    if theme.code in st.state_codes(state) and st.known_facts(state):
        text = render_list(build([theme], st.for_codes(state, [theme.code])), state)
    else:
        text = render_checklist(build_checklist(theme))
    return theme.code, theme.title, text


def offer_text(when: When, reason: str | None) -> str:
    if reason:
        return f"{reason}下面这些时间还有空位，点一个就约好了："
    if when.day or when.weekend or when.period:
        return "您说的时间约不了，下面这些时间还有空位，点一个就约好了："
    return "您想约哪天来？下面这些时间还有空位，点一个就约好了（也可以直接说，比如“周六上午”）："


class ActionBookAppointment(Action):
    """Book the half-day the person named (a slot button or words), else offer the free ones."""

    def name(self) -> str:
        return "action_book_appointment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        settings = ServiceSettings.from_env()
        now = time.time()
        when = slot_from_entity(latest_entity(tracker, SLOT_ENTITY)) or parse_when(
            latest_text(tracker), local(now, settings).date()
        )
        try:
            async with records_client() as client:
                booked, problem = await self._try_book(client, tracker, when, now, settings)
                if booked is not None:
                    return self._booked(dispatcher, booked, settings)
                free = await free_slots(client, when, now, settings)
        except WriteLimited:
            dispatcher.utter_message(text=f"您这会儿已经约了好几次了。有事请打 {SETTINGS.hotline}。")
            return []
        except Exception:
            logger.exception("appointment for %s failed", tracker.sender_id)
            dispatcher.utter_message(text=unavailable())
            return []
        if not free:
            dispatcher.utter_message(text=f"{problem or ''}最近{settings.days_ahead}天都约满了。请打 {SETTINGS.hotline} 问问。")
            return []
        dispatcher.utter_message(text=offer_text(when, problem), buttons=slot_buttons(free))
        return []

    async def _try_book(
        self, client: redis.asyncio.Redis, tracker: Tracker, when: When, now: float, settings: ServiceSettings
    ) -> tuple[Booking | None, str | None]:
        """The booking when (day, half-day) are known and free; else None and what was wrong."""
        if when.day is None or when.period is None:
            return None, None
        try:
            slot = appt.slot_for(when.day, when.period, now, settings)
        except SlotError as exc:
            return None, exc.message
        code, title, checklist = await thing_and_checklist(tracker)
        await asyncio.to_thread(check_write, redis_client(), WriteKind.booking, tracker.sender_id)
        try:
            booking = await appt.book(
                client,
                slot,
                tracker.sender_id,
                channel=channel_of(tracker),
                thing_code=code,
                thing_title=title,
                checklist=checklist,
                now=now,
                settings=settings,
            )
        except appt.AlreadyBooked as exc:
            return exc.booking, None
        except appt.SlotFull as exc:
            return None, exc.message
        return booking, None

    @staticmethod
    def _booked(dispatcher: CollectingDispatcher, booking: Booking, settings: ServiceSettings) -> list[EventType]:
        lines = ["预约好了！", *booking_lines(booking, settings), place_line()]
        if booking.checklist:
            lines += ["请带上：", booking.checklist]
        else:
            lines.append("请带上身份证。告诉我要办么子事，我把要带的材料列给您。")
        lines.append("要改时间，先说“取消预约”，再约一次。")
        dispatcher.utter_message(text="\n".join(lines), json_message=booking_card(booking, settings))
        return []


class ActionMyAppointments(Action):
    """The conversation's bookings that are still to come."""

    def name(self) -> str:
        return "action_my_appointments"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        settings = ServiceSettings.from_env()
        try:
            async with records_client() as client:
                found = await appt.bookings_for(client, tracker.sender_id, settings=settings)
        except Exception:
            logger.exception("bookings of %s could not be read", tracker.sender_id)
            dispatcher.utter_message(text=unavailable())
            return []
        if not found:
            dispatcher.utter_message(text="您现在没有预约。想预约，直接说“我想预约周六上午”就行。")
            return []
        lines = [f"您有 {len(found)} 个预约：" if len(found) > 1 else "您的预约："]
        for booking in found:
            lines += booking_lines(booking, settings)
        lines += [place_line(), "要取消，说“取消预约”。"]
        dispatcher.utter_message(text="\n".join(lines))
        return []


class ActionCancelAppointment(Action):
    """Cancel the booking named by its code (button or typed), or the only one; several: ask which."""

    def name(self) -> str:
        return "action_cancel_appointment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        settings = ServiceSettings.from_env()
        typed = CODE_RE.search(latest_text(tracker))
        code = latest_entity(tracker, CODE_ENTITY) or (typed.group(1) if typed else None)
        try:
            async with records_client() as client:
                found = await appt.bookings_for(client, tracker.sender_id, settings=settings)
                if code is None and len(found) == 1:
                    code = found[0].code
                if code is None:
                    return self._ask_which(dispatcher, found, settings)
                booking = await appt.cancel(client, code, tracker.sender_id)
        except NotFound:
            dispatcher.utter_message(text="没有找到这个预约码。说“我的预约”可以看您约了哪些。")
            return []
        except Conflict as exc:
            dispatcher.utter_message(text=exc.message)
            return []
        except Exception:
            logger.exception("cancel for %s failed", tracker.sender_id)
            dispatcher.utter_message(text=unavailable())
            return []
        dispatcher.utter_message(
            text=f"已经取消了 {booking.slot.label(settings)} 的预约（预约码 {booking.code}）。想再约，说“我想预约”就行。"
        )
        return []

    @staticmethod
    def _ask_which(dispatcher: CollectingDispatcher, found: list[Booking], settings: ServiceSettings) -> list[EventType]:
        if not found:
            dispatcher.utter_message(text="您现在没有预约，不用取消。")
            return []
        buttons = [{"title": f"取消 {b.slot.label(settings)}", "payload": cancel_payload(b.code)} for b in found]
        dispatcher.utter_message(text="您有几个预约，要取消哪一个？", buttons=buttons)
        return []


def unavailable() -> str:
    return f"抱歉，预约系统这会儿用不了。请稍后再试，或打 {SETTINGS.hotline}。"

