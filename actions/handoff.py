"""``action_handoff``: write a handoff ticket for staff, tell the person what happens next, pause.

Run after the consent question (``utter_ask_handoff_consent``): ``affirm`` = the person agrees that
what the assistant knows (their words, the matched things, the checklist, their phone number) is
passed on; ``deny`` = staff only get the channel, the sender id and the priority flag.
The ticket structure is documented in docs/handoff.md.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import redis
from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import knowledge_client
from actions.appointment_time import When
from actions.appointments import free_slots, records_client, slot_buttons
from actions.config import SETTINGS
from actions.find_thing import SLOT_PREVIOUS, SLOT_THING
from actions.latest import event_entity, latest_channel, latest_intent
from actions.write_limits import WriteKind, WriteLimited, check_write
from knowledge.checklist import build_checklist, render_checklist
from records import staff_queue, tickets
from records.appointments import WEEKDAY_LABELS, OfferReason, offer_instead_of_queue
from records.handoff_phrases import BACK_PHRASES
from records.service_hours import ServiceSettings, next_open
from records.ticket_model import HandoffTicket, MatchedThing, TranscriptLine

logger = logging.getLogger(__name__)

SLOT_PERSON_GROUP = "person_group"
SLOT_CONSENT = "handoff_consent"  # the consent answer kept while an appointment is offered
QUEUE_ANYWAY = "queue_anyway"  # intent of the "还是排队等" button after the offer
QUEUE_ANYWAY_TITLE = "还是排队等工作人员"
PHONE_ENTITY = "phone"
# Mobile numbers and landlines with area code (as in the NLU regex `phone`).
PHONE_RE = re.compile(r"(?<!\d)(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?!\d)")
BACK_WORDS = BACK_PHRASES[0]


@lru_cache(maxsize=1)
def redis_client() -> redis.Redis:
    return redis.Redis.from_url(SETTINGS.redis_url, socket_connect_timeout=3.0, socket_timeout=3.0)


def _intent(event: dict[str, Any]) -> str | None:
    return ((event.get("parse_data") or {}).get("intent") or {}).get("name")


def transcript(events: Iterable[dict[str, Any]]) -> list[TranscriptLine]:
    lines: list[TranscriptLine] = []
    for e in events:
        kind, text = e.get("event"), e.get("text")
        custom = (e.get("data") or {}).get("custom") if kind == "bot" else None
        if not text and isinstance(custom, dict):  # utter_core_fallback carries its text there
            text = custom.get("text")
        if kind in ("user", "bot") and text:
            lines.append(TranscriptLine(role=kind, text=str(text), ts=float(e.get("timestamp") or 0.0)))
    return lines


def why(events: list[dict[str, Any]]) -> str | None:
    """The person's words when asking for a human (else their last real message before consenting)."""
    users = [e for e in events if e.get("event") == "user" and e.get("text")]
    asked = [e for e in users if _intent(e) == "ask_human" and not str(e["text"]).startswith("/")]
    if asked:
        return str(asked[-1]["text"])
    plain = [e for e in users[:-1] if not str(e["text"]).startswith("/")]
    return str(plain[-1]["text"]) if plain else None


def plausible_phone(value: str, text: str = "") -> bool:
    """False for masked or placeholder digits (0000-00000000, 13800000000 next to ****, an 11-digit
    run inside an ID number): they are never a contact (issue #13)."""
    digits = re.sub(r"\D", "", value)
    if len(set(digits[-8:])) <= 2:  # 0000-00000000, 00000000000, 1390000000 …
        return False
    at = text.find(value) if text else -1
    if at >= 0:
        around = text[max(0, at - 2) : at] + text[at + len(value) : at + len(value) + 2]
        if re.search(r"[*＊xX×\d]", around):
            return False
    return True


def contact(events: Iterable[dict[str, Any]]) -> str | None:
    """The last phone number the person gave: the `phone` entity, or the same pattern in their text
    (masked or placeholder digits are skipped, see ``plausible_phone``)."""
    found: str | None = None
    for e in events:
        if e.get("event") != "user":
            continue
        text = str(e.get("text") or "")
        value = event_entity(e, PHONE_ENTITY)
        if value and plausible_phone(str(value), text):
            found = str(value)
            continue
        for match in PHONE_RE.finditer(text):
            if plausible_phone(match.group(1), text):
                found = match.group(1)
                break
    return found


def thing_codes(events: Iterable[dict[str, Any]], current: Any) -> list[str]:
    """Every thing the conversation matched, in order of first mention."""
    codes: list[str] = []
    for e in events:
        if e.get("event") == "slot" and e.get("name") in (SLOT_THING, SLOT_PREVIOUS) and e.get("value"):
            codes.append(str(e["value"]))
    if current:
        codes.append(str(current))
    return list(dict.fromkeys(codes))


async def build_ticket(tracker: Tracker, consent: bool) -> HandoffTicket:
    group = tracker.get_slot(SLOT_PERSON_GROUP) if SLOT_PERSON_GROUP in tracker.slots else None
    ticket = HandoffTicket(
        channel=latest_channel(tracker) or "rest",
        sender=tracker.sender_id,
        priority=bool(group),
        consent=consent,
    )
    if not consent:
        return ticket
    events = list(tracker.events)
    current = tracker.get_slot(SLOT_THING)
    matched: list[MatchedThing] = []
    update: dict[str, Any] = {}
    for code in thing_codes(events, current):
        theme = await knowledge_client.get_theme(code)
        if theme is None:
            continue
        matched.append(MatchedThing(code=theme.code, title=theme.title))
        if code == current:
            update["current_thing"] = MatchedThing(code=theme.code, title=theme.title)
            update["checklist"] = render_checklist(build_checklist(theme))
            update["conditions"] = [c.text for c in theme.conditions]
    return ticket.model_copy(
        update={
            **update,
            "priority_reason": str(group) if group else None,
            "why": why(events),
            "matched_things": matched,
            "transcript": transcript(events),
            "contact": contact(events),
        }
    )


def next_steps(ticket: HandoffTicket) -> str:
    lines = [f"好的，已经帮您转给工作人员了（单号 {ticket.id[:8]}）。"]
    if ticket.priority:
        lines.append("您属于优先照顾的情况，工作人员会优先处理。")
    lines += [
        "接下来：工作人员会在这里直接回复您，请不用重复发消息。",
        f"工作人员上班时间：{SETTINGS.staff_hours}。",
        f"想回到机器人，说“{BACK_WORDS}”就行；急事可打 {SETTINGS.hotline}。",
    ]
    return "\n".join(lines)


def create_ticket(ticket: HandoffTicket) -> None:
    """Store the ticket and announce it (event ``created``), unless this conversation opened too many
    lately (:class:`WriteLimited`)."""
    client = redis_client()
    check_write(client, WriteKind.ticket, ticket.sender)
    tickets.create_ticket_sync(client, ticket)


def too_many_tickets() -> str:
    return (
        f"您这会儿已经找过好几次工作人员了。请直接打政务服务热线 {SETTINGS.hotline}，"
        f"或到{SETTINGS.centre_name}（{SETTINGS.centre_address}）找工作人员，上班时间：{SETTINGS.staff_hours}。"
    )


def handoff_failed() -> str:
    return (
        f"抱歉，现在没能转给工作人员。请打政务服务热线 {SETTINGS.hotline}，"
        f"或到{SETTINGS.centre_name}（{SETTINGS.centre_address}）找工作人员，上班时间：{SETTINGS.staff_hours}。"
    )


def offer_lead(reason: OfferReason, wait_seconds: int, settings: ServiceSettings, now: float) -> str:
    if reason == OfferReason.closed:
        opening = next_open(now, settings)
        day = f"{opening.month}月{opening.day}日（周{WEEKDAY_LABELS[opening.weekday()]}）"
        return f"现在不是上班时间，工作人员{day}{opening:%H:%M}上班。"
    return f"现在排队的人多，大约要等 {max(1, round(wait_seconds / 60))} 分钟。"


async def offer_appointment(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """Outside service hours or with a long wait (``records.appointments.offer_instead_of_queue``):
    offer the free half-days and "queue anyway" instead of a ticket nobody answers soon. False (and
    nothing said) when the queue is the better way, or when Redis cannot tell (the ticket path then
    says what to do)."""
    settings = ServiceSettings.from_env()
    now = time.time()
    try:
        async with records_client() as client:
            wait = await staff_queue.estimated_wait(client, now)
            reason = offer_instead_of_queue(now, wait, settings)
            if reason is None:
                return False
            free = await free_slots(client, When(), now, settings)
    except Exception:
        logger.exception("appointment offer for %s: service hours or queue could not be read", tracker.sender_id)
        return False
    lines = [offer_lead(reason, wait, settings, now)]
    if free:
        lines.append("不想等的话，可以预约一个时间来中心，工作人员当面帮您办。点一个时间就约好了：")
    lines.append(f"还是想排队等，点“{QUEUE_ANYWAY_TITLE}”。急事请打 {SETTINGS.hotline}。")
    buttons = [*slot_buttons(free), {"title": QUEUE_ANYWAY_TITLE, "payload": "/" + QUEUE_ANYWAY}]
    dispatcher.utter_message(text="\n".join(lines), buttons=buttons)
    return True


class ActionHandoff(Action):
    """Write the ticket (consent from the latest intent: affirm = yes), answer, pause the conversation."""

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent = latest_intent(tracker)
        queue_anyway = intent == QUEUE_ANYWAY
        consent = bool(tracker.get_slot(SLOT_CONSENT)) if queue_anyway else intent == "affirm"
        if not queue_anyway and await offer_appointment(dispatcher, tracker):
            return [SlotSet(SLOT_CONSENT, consent)]
        try:
            ticket = await build_ticket(tracker, consent)
            await asyncio.to_thread(create_ticket, ticket)
        except WriteLimited:
            dispatcher.utter_message(text=too_many_tickets())
            return []
        except Exception:  # Redis or the knowledge service down: never leave the person without a way on
            logger.exception("handoff ticket for %s could not be written", tracker.sender_id)
            dispatcher.utter_message(text=handoff_failed())
            return []
        logger.info("handoff ticket %s for %s (priority=%s)", ticket.id, ticket.sender, ticket.priority)
        dispatcher.utter_message(text=next_steps(ticket))
        return [ConversationPaused()]
