"""The 办不成事 form: ``validate_bancheng_form`` checks each answer, ``action_file_case`` files the case.

After two invalid answers to the same question the person is told what is expected and offered to
stop ("不填了", payload ``/stop_form``). Saying 不办了 / 不填了 at any question stops the form: the
validation sets ``case_stopped`` and ends the loop, and ``action_file_case`` then files nothing.
Asking for a human (``ask_human``, e.g. 转人工) at any question is not taken as an answer either: the
form stops the same way, and ``action_file_case`` hands over to the consent question of the handoff
(``FollowupAction``), so the person gets the staff they asked for.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import knowledge_client
from actions.casework import channel_of, find_phone, redis_client
from actions.config import SETTINGS
from actions.latest import latest_confidence, latest_intent, latest_search_text, latest_text
from actions.write_limits import WriteKind, WriteLimited, check_write
from records import case_store as store
from records.case_model import Case, CaseKind

logger = logging.getLogger(__name__)

FORM = "bancheng_form"
SLOT_MATTER = "case_matter"
SLOT_PLACE = "case_place"
SLOT_STORY = "case_story"
SLOT_CONSENT = "case_contact_consent"
SLOT_CONTACT = "case_contact"
SLOT_INVALID = "case_invalid"  # {slot name: invalid answers in a row}
SLOT_STOPPED = "case_stopped"
SLOT_CASE_ID = "case_id"
FORM_SLOTS = [SLOT_MATTER, SLOT_PLACE, SLOT_STORY, SLOT_CONSENT, SLOT_CONTACT]
STOP_PAYLOAD = "/stop_form"
EXPLAIN_AFTER = 2  # invalid answers in a row before the explanation

STOP_INTENT = "stop_form"
HUMAN_INTENT = "ask_human"
HANDOFF_CONSENT = "utter_ask_handoff_consent"
MIN_INTENT_CONFIDENCE = 0.7  # below this an ask_human guess does not override the answer
_STOP_WORDS = ("不办了", "不填了", "不弄了", "不搞了", "不报了", "不登记了", "不想填", "取消", "算了", "不说了")
# Answers that say nothing, whatever the question.
_VAGUE = {"不知道", "不晓得", "冇晓得", "随便", "没有", "冇得", "没得", "嗯", "嗯嗯", "啊", "哦", "好", "好的", "是", "对",
          "什么", "么子", "啥", "不清楚", "忘了", "你猜"}
_YES = ("可以", "要得", "同意", "愿意", "行", "好的", "好", "留", "嗯", "是", "对", "要")
_NO = ("不", "冇", "没", "别", "算了")

# What each question expects (used in the explanation after two invalid answers).
EXPECTED = {
    SLOT_MATTER: "要办的是哪件事，说个名字就行，比如“新生儿上户口”“办退休”“开米粉店”。",
    SLOT_PLACE: "在哪里办的，比如“县政务服务中心”“白仓镇便民服务中心”“网上办的”。",
    SLOT_STORY: "发生了么子事、为么子没办成，说一两句就行（至少几个字），比如“跑了三趟，说材料不对，又说不清缺么子”。",
    SLOT_CONSENT: "愿不愿意留个电话让工作人员打给您：愿意就回“可以”，不愿意就回“不留”。",
    SLOT_CONTACT: "11位手机号（比如 13812345678），或者座机 0739-xxxxxxx（0739 加 7 位号码）。",
}
RETRY = {
    SLOT_MATTER: "我没太听明白是哪件事，您再说一下？",
    SLOT_PLACE: "我没太听明白是在哪里办的，您再说一下？",
    SLOT_STORY: "能再多说几句吗？是么子原因没办成？",
    SLOT_CONSENT: "您愿意留电话吗？回“可以”或者“不留”就行。",
    SLOT_CONTACT: "这个号码好像不对，手机号是11位，座机是 0739- 加 7 位。您再发一下？",
}


def clean(value: Any) -> str:
    return re.sub(r"\s+", " ", str(value or "")).strip(" 。，,.!！?？~～")


def wants_human(tracker: Tracker) -> bool:
    """Does the latest message ask for a human (转人工), with reasonable confidence?"""
    return latest_intent(tracker) == HUMAN_INTENT and latest_confidence(tracker) >= MIN_INTENT_CONFIDENCE


def is_stop(tracker: Tracker) -> bool:
    """Does the latest message ask to stop the form (不办了, or a request for a human)?"""
    if latest_intent(tracker) == STOP_INTENT:  # (the FallbackClassifier already cut unsure guesses)
        return True
    if wants_human(tracker):
        return True
    text = latest_text(tracker)
    return text == STOP_PAYLOAD or (len(text) <= 10 and any(w in text for w in _STOP_WORDS))


def meaningful(text: str, min_chars: int) -> bool:
    """At least ``min_chars`` letters/digits/CJK characters and not a bare 'don't know'."""
    if not text or text.startswith("/") or text in _VAGUE:
        return False
    core = re.sub(r"[^\w\u4e00-\u9fff]", "", text)
    return len(core) >= min_chars and core not in _VAGUE


def parse_consent(text: str, intent: str) -> bool | None:
    if intent == "affirm":
        return True
    if intent == "deny":
        return False
    if find_phone(text):
        return True
    if any(w in text for w in ("不留", "不要", "不用", "不愿意", "不可以", "不行", "冇得", "没得", "算了", "别")):
        return False
    if len(text) <= 8 and any(w in text for w in _YES) and not any(w in text for w in _NO):
        return True
    return None


class ValidateBanchengForm(FormValidationAction):
    def name(self) -> str:
        return "validate_bancheng_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if tracker.get_slot(SLOT_STOPPED):
            return []
        if tracker.get_slot(SLOT_CONSENT) is False:
            return [s for s in domain_slots if s != SLOT_CONTACT]
        return domain_slots

    # --- helpers ------------------------------------------------------------------------------

    def _counts(self, tracker: Tracker) -> dict[str, int]:
        raw = tracker.get_slot(SLOT_INVALID)
        return dict(raw) if isinstance(raw, dict) else {}

    def _stop(self) -> dict[str, Any]:
        return {**dict.fromkeys(FORM_SLOTS), SLOT_INVALID: None, SLOT_STOPPED: True, "requested_slot": None}

    def _valid(self, slot: str, value: Any, tracker: Tracker) -> dict[str, Any]:
        counts = self._counts(tracker)
        counts.pop(slot, None)
        return {slot: value, SLOT_INVALID: counts or None}

    def _invalid(self, slot: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        counts = self._counts(tracker)
        counts[slot] = counts.get(slot, 0) + 1
        if counts[slot] >= EXPLAIN_AFTER:
            dispatcher.utter_message(
                text=(
                    f"不好意思，我还是没弄明白。这一步需要的是：{EXPECTED[slot]}\n"
                    f"不想填了也没关系，点“不填了”就行，也可以直接打 {SETTINGS.hotline} 反映。"
                ),
                buttons=[{"title": "不填了", "payload": STOP_PAYLOAD}],
            )
        else:
            dispatcher.utter_message(text=RETRY[slot])
        return {slot: None, SLOT_INVALID: counts}

    def _text_slot(
        self, slot: str, value: Any, min_chars: int, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        if is_stop(tracker):
            return self._stop()
        text = clean(value)
        if meaningful(text, min_chars):
            return self._valid(slot, text, tracker)
        return self._invalid(slot, dispatcher, tracker)

    # --- prefilled from the message that opened the form --------------------------------------

    async def extract_case_matter(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """At activation: the matter the opening message names ("我上个月去办残疾证，跑了三趟都冇
        办成"), when the search is sure of it, so the form does not ask it again. Later turns
        fill the slot from the answer (domain mapping)."""
        if not opening(tracker) or tracker.get_slot(SLOT_MATTER):
            return {}
        text = latest_search_text(tracker)
        try:
            hit = await knowledge_client.sure_hit(text)
        except Exception:  # the form simply asks
            logger.exception("knowledge match failed for the 办不成事 opening message")
            return {}
        if hit is None:
            return {}
        title = hit.title
        dispatcher.utter_message(
            text=f"好的，我帮您把没办成的【{title}】登记下来，转给县政务服务中心的“办不成事”反映窗口。"
            "再问您几个问题，中途回“不办了”就可以停下。"
        )
        return {SLOT_MATTER: title}

    async def extract_case_place(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """At activation: the town the opening message names (the `town` entity)."""
        if not opening(tracker) or tracker.get_slot(SLOT_PLACE):
            return {}
        town = next(tracker.get_latest_entity_values("town"), None)
        return {SLOT_PLACE: str(town)} if town else {}

    # --- one method per slot ------------------------------------------------------------------

    def validate_case_matter(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._text_slot(SLOT_MATTER, value, 2, dispatcher, tracker)

    def validate_case_place(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._text_slot(SLOT_PLACE, value, 2, dispatcher, tracker)

    def validate_case_story(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._text_slot(SLOT_STORY, value, 5, dispatcher, tracker)

    def validate_case_contact_consent(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if is_stop(tracker) and latest_intent(tracker) != "deny":
            return self._stop()
        text = clean(value)
        consent = parse_consent(text, latest_intent(tracker))
        if consent is None:
            return self._invalid(SLOT_CONSENT, dispatcher, tracker)
        result = self._valid(SLOT_CONSENT, consent, tracker)
        phone = find_phone(text)
        if consent and phone:  # "可以，13812345678": the number comes with the yes
            result[SLOT_CONTACT] = phone
        return result

    def validate_case_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if is_stop(tracker):
            return self._stop()
        phone = find_phone(str(value or ""))
        if phone:
            return self._valid(SLOT_CONTACT, phone, tracker)
        return self._invalid(SLOT_CONTACT, dispatcher, tracker)


def opening(tracker: Tracker) -> bool:
    """The form is being opened by a typed message (nothing asked yet, not a button payload)."""
    return (
        tracker.get_slot("requested_slot") is None
        and latest_intent(tracker) == "report_bancheng"
        and not latest_text(tracker).startswith("/")
    )


def reset_events() -> list[EventType]:
    return [SlotSet(s, None) for s in (*FORM_SLOTS, SLOT_INVALID, SLOT_STOPPED)]


def build_case(tracker: Tracker, case_id: str) -> Case:
    consent = tracker.get_slot(SLOT_CONSENT) is True
    return Case(
        id=case_id,
        kind=CaseKind.bancheng,
        channel=channel_of(tracker),
        sender=tracker.sender_id,
        current_thing=tracker.get_slot("current_thing"),
        matter=tracker.get_slot(SLOT_MATTER),
        place=tracker.get_slot(SLOT_PLACE),
        story=tracker.get_slot(SLOT_STORY),
        contact_consent=consent,
        contact=tracker.get_slot(SLOT_CONTACT) if consent else None,
    )


def file_case(case_kind: CaseKind, sender: str, make: Any) -> Case:
    """Allocate a case number, build the case with ``make(case_id)`` and store it (sync, Redis).

    Raises :class:`WriteLimited` (nothing written) when ``sender`` filed too many cases lately."""
    client = redis_client()
    try:
        check_write(client, WriteKind.case, sender)
        case = make(store.new_case_id(client, case_kind))
        store.save_case(client, case)
        return case
    finally:
        client.close()


def too_many_cases() -> str:
    return (
        "您这会儿已经登记了好几件了，工作人员会一件一件看。还有新情况，请打政务服务热线 "
        f"{SETTINGS.hotline}，或者到{SETTINGS.centre_name}（{SETTINGS.centre_address}）当面说。"
    )


def filed_text(case: Case) -> str:
    callback = (
        f"工作人员会打您留的电话 {case.contact} 回访您（工作日 {SETTINGS.centre_hours.replace('工作日 ', '')}）。"
        if case.contact
        else "您没有留电话，工作人员没办法回电话给您，您可以凭这个编号去问进展。"
    )
    return (
        f"已经帮您登记好了，编号是 {case.id}，请记一下。\n"
        f"这件事会转给县政务服务中心的“办不成事”反映窗口。{callback}\n"
        f"现在您也可以：\n"
        f"1. 带上身份证和已有的材料，到{SETTINGS.centre_name}（{SETTINGS.centre_address}）找“办不成事”反映窗口当面说；\n"
        f"2. 打政务服务热线 {SETTINGS.hotline}，报这个编号。"
    )


class ActionFileCase(Action):
    def name(self) -> str:
        return "action_file_case"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot(SLOT_STOPPED) and wants_human(tracker):
            # 转人工 during the form: nothing filed, straight to the handoff consent question.
            dispatcher.utter_message(text="好的，这份登记先不填了。")
            return [*reset_events(), FollowupAction(HANDOFF_CONSENT)]
        if tracker.get_slot(SLOT_STOPPED) or not tracker.get_slot(SLOT_MATTER):
            dispatcher.utter_message(
                text=f"好的，不填了，没有登记。以后想反映，随时跟我说“办不成事”，或者打 {SETTINGS.hotline}。"
            )
            return reset_events()
        try:
            case = await asyncio.to_thread(
                file_case, CaseKind.bancheng, tracker.sender_id, lambda cid: build_case(tracker, cid)
            )
        except WriteLimited:
            dispatcher.utter_message(text=too_many_cases())
            return reset_events()
        except Exception:  # Redis down must not break the conversation
            logger.exception("could not file the bancheng case of %s", tracker.sender_id)
            dispatcher.utter_message(
                text=(
                    "不好意思，系统有点忙，这次没登记上。请您打政务服务热线 "
                    f"{SETTINGS.hotline}，或者到{SETTINGS.centre_name}（{SETTINGS.centre_address}）当面反映。"
                )
            )
            return reset_events()
        dispatcher.utter_message(text=filed_text(case))
        return [*reset_events(), SlotSet(SLOT_CASE_ID, case.id)]
