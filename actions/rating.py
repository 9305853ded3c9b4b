"""Service rating (好差评): ``action_save_rating`` stores it; 不满意 or worse gets a follow-up case.

A rating asked for after staff handed the conversation back (``action_staff_handed_back``, run by the
rule of the intent ``staff_handed_back`` that only the gateway triggers) is stored with
``served_by = "staff"``: the gateway sets the slot ``served_by`` before, and the rating resets it.

The rating arrives as a button payload ``/rate{"rating":"5"}`` (buttons on the goodbye / thanks
answers) or typed words (非常满意 … 非常不满意, 打5分). ``rating_band`` (low / ok / unknown) tells the
rules what comes next: low → ``bad_rating_form`` asks what went wrong → ``action_file_bad_rating_case``.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import knowledge_client
from actions.cases import HANDOFF_CONSENT, file_case, is_stop, meaningful, too_many_cases, wants_human
from actions.casework import channel_of, redis_client
from actions.config import SETTINGS
from actions.latest import latest_text
from actions.write_limits import WriteKind, WriteLimited, check_write
from records import case_store as store
from records.case_model import LOW_RATING_MAX, RATING_LABELS, Case, CaseKind, Rating

logger = logging.getLogger(__name__)

SLOT_BAND = "rating_band"
SLOT_RATING_ID = "rating_id"
SLOT_REASON = "rating_reason"
SLOT_SERVED_BY = "served_by"
SLOT_THING = "current_thing"
SERVED_BY_STAFF = "staff"
BAND_LOW = "low"
BAND_OK = "ok"
BAND_UNKNOWN = "unknown"


def rating_payload(level: int) -> str:
    return '/rate{"rating":"' + str(level) + '"}'


def rating_buttons() -> list[dict[str, str]]:
    return [{"title": RATING_LABELS[level], "payload": rating_payload(level)} for level in (5, 4, 3, 2, 1)]


# Checked in this order: the more negative patterns first (不满意 contains 满意, 不是很满意 contains 很满意).
_DEGREE = "非常|很|太|极|极其|特别|超级|十分|相当|好|真"
_PATTERNS: list[tuple[int, re.Pattern[str]]] = [
    (1, re.compile(rf"(?:{_DEGREE})不满意|非常差|太差|很差|差劲|垃圾|一颗星|一星")),
    (2, re.compile(r"不(?:太|大|怎么|咋|是很|是太|是特别|够)?满意|差评|不好|不行|不怎么样|两颗星|二星|两星")),
    (3, re.compile(r"一般|还行|还可以|马马虎虎|凑合|过得去|中评|中等|三颗星|三星")),
    (5, re.compile(rf"(?:{_DEGREE}|百分之百)满意|太好了|非常好|五颗星|五星|满分")),
    (4, re.compile(r"满意|好评|不错|挺好|蛮好|可以的|四颗星|四星")),
]
_DIGIT = re.compile(r"(?<![\d\-－.])([1-5])\s*(?:分|星|颗星)?(?![\d.])")


def parse_level(entity: Any, text: str) -> int | None:
    """Rating level 1..5 from the ``rating`` entity (buttons) or typed words; None when unclear.

    Only a whole number 1..5 counts: a payload (``/rate{"rating":"-1"}``, or its text once the
    gateway has made a typed one plain text) gives None, and ``-1`` / ``0`` / ``6`` are never read
    as a level."""
    value = str(entity).strip() if entity is not None else ""
    if value in {"1", "2", "3", "4", "5"}:
        return int(value)
    if text.lstrip().startswith(("/", "／")):
        return None
    for level, pattern in _PATTERNS:
        if pattern.search(text):
            return level
    digit = _DIGIT.search(text)
    return int(digit.group(1)) if digit else None


def save_rating(sender: str, rating_maker: Any) -> Rating:
    """Store a rating built by ``rating_maker(rating_id)``; :class:`WriteLimited` when ``sender`` rated
    too often lately (nothing stored)."""
    client = redis_client()
    try:
        check_write(client, WriteKind.rating, sender)
        rating = rating_maker(store.new_rating_id(client))
        store.save_rating(client, rating)
        return rating
    finally:
        client.close()


class ActionSaveRating(Action):
    def name(self) -> str:
        return "action_save_rating"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        level = parse_level(next(tracker.get_latest_entity_values("rating"), None), latest_text(tracker))
        if level is None:
            dispatcher.utter_message(text="您给我们打几分？点下面一个就行：", buttons=rating_buttons())
            return [SlotSet(SLOT_BAND, BAND_UNKNOWN)]

        served_by = "staff" if tracker.get_slot(SLOT_SERVED_BY) == SERVED_BY_STAFF else "assistant"

        def make(rating_id: str) -> Rating:
            return Rating(
                id=rating_id,
                level=level,
                label=RATING_LABELS[level],
                theme=tracker.get_slot(SLOT_THING),
                channel=channel_of(tracker),
                sender=tracker.sender_id,
                served_by=served_by,
            )

        low = level <= LOW_RATING_MAX
        reset = [SlotSet(SLOT_SERVED_BY, None)] if tracker.get_slot(SLOT_SERVED_BY) is not None else []
        try:
            rating = await asyncio.to_thread(save_rating, tracker.sender_id, make)
        except WriteLimited:
            dispatcher.utter_message(text="您这会儿已经评过好几次了，前面的评价都记着呢，谢谢您！")
            return [*reset, SlotSet(SLOT_BAND, BAND_OK)]
        except Exception:
            logger.exception("could not save the rating of %s", tracker.sender_id)
            dispatcher.utter_message(text=f"谢谢您的评价！有意见也可以打 {SETTINGS.hotline} 反映。")
            return [*reset, SlotSet(SLOT_BAND, BAND_OK)]
        if low:
            dispatcher.utter_message(text=f"收到您的评价：{rating.label}。很抱歉没让您满意。")
            return [*reset, SlotSet(SLOT_RATING_ID, rating.id), SlotSet(SLOT_BAND, BAND_LOW)]
        dispatcher.utter_message(text=f"收到您的评价：{rating.label}，谢谢您！祝您办事顺利。")
        return [*reset, SlotSet(SLOT_RATING_ID, rating.id), SlotSet(SLOT_BAND, BAND_OK)]


async def handed_back_text(thing_code: str | None) -> str:
    """What the assistant says when staff give the conversation back."""
    theme = await knowledge_client.get_theme(thing_code) if thing_code else None
    about = f"您的【{theme.title}】" if theme is not None else "您的事"
    return (
        f"谢谢您的耐心！{about}工作人员已经帮您处理过了，小助手回来了，还有么子要问的直接跟我说。\n"
        "方便的话，给工作人员这次的服务打个分："
    )


class ActionStaffHandedBack(Action):
    """Staff closed the ticket and gave the conversation back (intent ``staff_handed_back``, triggered
    by the gateway after it set ``served_by`` and ``current_thing``): thanks, back, the rating buttons."""

    def name(self) -> str:
        return "action_staff_handed_back"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot(SLOT_SERVED_BY) != SERVED_BY_STAFF:  # not from the gateway: nothing to rate
            dispatcher.utter_message(response="utter_ask_what_matter")
            return []
        try:
            text = await handed_back_text(tracker.get_slot(SLOT_THING))
        except Exception:  # the knowledge service down: the thanks and the buttons still go out
            logger.exception("could not look up the matter of %s", tracker.sender_id)
            text = await handed_back_text(None)
        dispatcher.utter_message(text=text, buttons=rating_buttons())
        return []


def file_bad_rating_case(tracker: Tracker, reason: str) -> Case:
    rating_id = tracker.get_slot(SLOT_RATING_ID)
    client = redis_client()
    try:
        rating = store.get_rating(client, rating_id) if rating_id else None
    finally:
        client.close()

    def make(case_id: str) -> Case:
        return Case(
            id=case_id,
            kind=CaseKind.bad_rating,
            channel=channel_of(tracker),
            sender=tracker.sender_id,
            current_thing=tracker.get_slot("current_thing"),
            text=reason,
            rating_id=rating_id,
            rating=rating.level if rating else None,
        )

    case = file_case(CaseKind.bad_rating, tracker.sender_id, make)
    if rating_id:
        client = redis_client()
        try:
            store.link_rating_case(client, rating_id, case.id)
        finally:
            client.close()
    return case


class ActionFileBadRatingCase(Action):
    def name(self) -> str:
        return "action_file_bad_rating_case"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        reason = str(tracker.get_slot(SLOT_REASON) or "").strip()
        reset = [SlotSet(SLOT_REASON, None), SlotSet(SLOT_RATING_ID, None), SlotSet(SLOT_BAND, None)]
        if wants_human(tracker):
            # 转人工 instead of a reason: no case, straight to the handoff consent question.
            dispatcher.utter_message(text="好的，这就帮您找工作人员。")
            return [*reset, FollowupAction(HANDOFF_CONSENT)]
        if is_stop(tracker) or not meaningful(reason, 2):
            dispatcher.utter_message(
                text=f"好的，不说也没关系。您有意见随时可以打政务服务热线 {SETTINGS.hotline} 反映。"
            )
            return reset
        try:
            case = await asyncio.to_thread(file_bad_rating_case, tracker, reason)
        except WriteLimited:
            dispatcher.utter_message(text=too_many_cases())
            return reset
        except Exception:
            logger.exception("could not file the bad-rating case of %s", tracker.sender_id)
            dispatcher.utter_message(
                text=f"谢谢您说出来。系统有点忙，这次没记上，请您打政务服务热线 {SETTINGS.hotline} 反映。"
            )
            return reset
        dispatcher.utter_message(
            text=(
                f"谢谢您说出来，已经记下了（编号 {case.id}），会转给县政务服务中心的工作人员改进。\n"
                f"想要有人答复您，可以打政务服务热线 {SETTINGS.hotline}，报这个编号。"
            )
        )
        return reset
