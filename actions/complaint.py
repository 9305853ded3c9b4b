"""``action_record_complaint``: record a complaint (department, delay, staff) and point to 12345.

The assistant cannot resolve a complaint and must not pretend to: it stores the person's own words
as a case (kind ``complaint``) and tells them where complaints are handled.
"""

from __future__ import annotations

import asyncio
import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.cases import SLOT_CASE_ID, file_case
from actions.casework import channel_of
from actions.config import SETTINGS
from actions.latest import latest_text
from actions.write_limits import WriteLimited
from records.case_model import Case, CaseKind

logger = logging.getLogger(__name__)


def complaint_case(tracker: Tracker, case_id: str) -> Case:
    return Case(
        id=case_id,
        kind=CaseKind.complaint,
        channel=channel_of(tracker),
        sender=tracker.sender_id,
        current_thing=tracker.get_slot("current_thing"),
        text=latest_text(tracker),
    )


def complaint_text(case_id: str | None) -> str:
    recorded = f"您说的情况我记下来了（编号 {case_id}）。" if case_id else "您说的情况我听到了。"
    return (
        f"让您受委屈了，{recorded}\n"
        "不过我只是个机器人，没办法替您处理投诉，也不能保证结果。\n"
        f"要投诉、要人答复，请打 12345 政务服务便民热线：{SETTINGS.hotline}，"
        "他们会受理、转给有关部门，并给您回复。"
    )


async def record_complaint(tracker: Tracker) -> str | None:
    """File the person's latest words as a complaint case; its number, or None when it could not be
    written (too many lately, Redis down: the person is still pointed to 12345)."""
    try:
        case = await asyncio.to_thread(
            file_case, CaseKind.complaint, tracker.sender_id, lambda cid: complaint_case(tracker, cid)
        )
    except WriteLimited:
        return None
    except Exception:
        logger.exception("could not record the complaint of %s", tracker.sender_id)
        return None
    return case.id


class ActionRecordComplaint(Action):
    def name(self) -> str:
        return "action_record_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        case_id = await record_complaint(tracker)
        dispatcher.utter_message(text=complaint_text(case_id))
        return [SlotSet(SLOT_CASE_ID, case_id)] if case_id else []
