"""``action_checklist``: the personal checklist, asking only the questions that change it.

One question at a time (buttons answer with ``/inform_fact{"fact_key":…,"fact_value":…}``, or a
typed answer; "不晓得" / "跳过" skips), at most ``MAX_QUESTIONS``; then the list: what to bring,
what depends on an unknown fact (看情况, with its case), what to check with the window and what
is not needed (with the reason). Two matters at once are merged (see ``actions.checklist_things``).
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import checklist_state as st
from actions import checklist_things as things
from actions import knowledge_client, named, render
from actions.find_thing import SLOT_PREVIOUS, SLOT_THING, answer_service_error, latest_entity
from actions.latest import latest_intent, latest_text, recent_entity
from knowledge.checklist import (
    Checklist,
    MergedChecklist,
    Question,
    build_checklist,
    merge_checklists,
    render_checklist,
)
from knowledge.models import Theme

logger = logging.getLogger(__name__)

INFORM_FACT = "inform_fact"
# deny (不晓得 / 没有) and affirm (是的) right after a question answer it too (rules).
ANSWER_INTENTS = (INFORM_FACT, "affirm", "deny")
# A typed option name (二手房, 新办证) is also a matter: NLU reads it as describe_situation. Right
# after a question (rule) it is the answer when it answers that question, else a new matter
# (handed to action_find_thing). Right after "which matter?" it names the checklist's matter.
MAYBE_ANSWER_INTENT = "describe_situation"
FIND_THING = "action_find_thing"
SKIP_TITLE = "不晓得，跳过"


def build(themes: list[Theme], state: dict[str, Any]) -> Checklist | MergedChecklist:
    """The checklist of one theme, or the merged checklist of several, for the facts in ``state``."""
    situation = st.situation(state)
    lists = [build_checklist(t, situation) for t in themes]
    return lists[0] if len(lists) == 1 else merge_checklists(lists)


def next_question(checklist: Checklist | MergedChecklist, state: dict[str, Any]) -> Question | None:
    """The next question to ask: one not asked yet, while fewer than MAX_QUESTIONS were asked."""
    asked = st.known_facts(state)
    if len(asked) >= st.MAX_QUESTIONS:
        return None
    return next((q for q in checklist.questions if q.fact not in asked), None)


def render_list(checklist: Checklist | MergedChecklist, state: dict[str, Any]) -> str:
    """The final list; items depending on a skipped or unasked fact are marked 看情况."""
    shown = checklist.model_copy(deep=True, update={"questions": []})
    for item in shown.ask:
        item.reason = f"看情况：{item.reason}" if item.reason else "看情况"
    lines = [render_checklist(shown)]
    if shown.ask:
        lines.append("标“看情况”的，按括号里的情况准备；拿不准就先打电话问窗口。")
    return "\n".join(line for line in "\n".join(lines).splitlines() if line.strip())


def checklist_card(themes: list[Theme], listed: str) -> dict[str, Any]:
    """The finished list as data for the channels (docs/channels.md): the kiosk draws a printable
    card, Telegram sends a file; the gateway adds the phone link and its QR code."""
    return {"checklist": {"codes": [t.code for t in themes], "title": "、".join(t.title for t in themes), "text": listed}}


def ask(
    dispatcher: CollectingDispatcher, question: Question, titles: list[str], first: bool, noted: str = ""
) -> None:
    lead = (
        f"好的，帮您按您的情况列【{'＋'.join(titles)}】的材料清单。{noted}先问您一句："
        if first
        else f"{noted}再问您一句："
    )
    buttons = [
        {"title": o.title, "payload": st.fact_payload(question.fact, o.value)} for o in question.options
    ]
    buttons.append({"title": SKIP_TITLE, "payload": st.fact_payload(question.fact, st.SKIP_VALUE)})
    dispatcher.utter_message(text=f"{lead}\n{question.prompt}", buttons=buttons)


async def _codes_for_request(text: str, tracker: Tracker, use_context: bool = True) -> list[str]:
    """The theme codes a checklist request is about ([] when none is known). Without
    ``use_context`` only matters the message itself names count (not the current/previous one)."""
    current = tracker.get_slot(SLOT_THING) if use_context else None
    previous = tracker.get_slot(SLOT_PREVIOUS) if use_context else None
    official = list(dict.fromkeys(str(c) for c in tracker.get_latest_entity_values("thing")))
    if len(official) == 2:  # two official names (新生儿出生一件事和育儿补贴一件事)
        return official
    pair = await things.two_things(text)
    if pair:
        return pair
    if things.asks_for_both(text) and current and previous and current != previous:
        return [str(current), str(previous)]
    theme = await named.named_in_message(text, things.GENERIC, named.official_code(tracker))
    if theme is not None:
        return [theme.code]
    return [str(current)] if current else []


def _after_the_list(state: dict[str, Any], every_question: Checklist | MergedChecklist | None, text: str) -> str:
    """The reply to 要得 / 冇得 after the list; to a bare 不对 / 讲错了, how to say a change."""
    example = st.change_example(state, every_question) if every_question is not None else None
    if example and st.has_correction(text):
        return f"好的，哪一条要改？请说“改成”加新的情况，比如“改成{example}”。"
    return "好的。还有么子要问的，直接跟我说。"


def _kept_answers_note(state: dict[str, Any], every_question: Checklist | MergedChecklist) -> str:
    """The lead of a list asked for again: it follows the earlier answers, and how to change one."""
    example = st.change_example(state, every_question)
    if example is None:
        return ""
    return f"这是按您前面的回答列的。要改哪一条，就说“改成{example}”这样的话。"


def _thing_events(codes: list[str], current: Any, previous: Any) -> list[EventType]:
    events: list[EventType] = []
    if codes[0] != current:
        events.append(SlotSet(SLOT_THING, codes[0]))
    if len(codes) > 1 and codes[1] != previous:
        events.append(SlotSet(SLOT_PREVIOUS, codes[1]))
    elif len(codes) == 1 and codes[0] != current and current:
        events.append(SlotSet(SLOT_PREVIOUS, current))
    return events


class ActionChecklist(Action):
    """Ask what changes the materials, then list exactly what to bring."""

    def name(self) -> str:
        return "action_checklist"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = latest_text(tracker)
        intent = latest_intent(tracker)
        current = tracker.get_slot(SLOT_THING)
        previous = tracker.get_slot(SLOT_PREVIOUS)
        state = st.load_state(tracker.get_slot(st.SLOT_FACTS))
        # describe_situation: with a checklist in progress maybe the answer to its question,
        # else the reply to "which matter?".
        maybe_answer = intent == MAYBE_ANSWER_INTENT and bool(st.state_codes(state))
        naming = intent == MAYBE_ANSWER_INTENT and not maybe_answer
        answering = intent in ANSWER_INTENTS or maybe_answer
        try:
            if answering:
                codes = st.state_codes(state) or ([str(current)] if current else [])
            else:
                codes = await _codes_for_request(text, tracker, use_context=not naming)
            themes = [t for t in [await knowledge_client.get_theme(c) for c in codes] if t is not None]
        except Exception:
            logger.exception("knowledge lookup failed for the checklist")
            return answer_service_error(dispatcher)
        if not themes:
            # An "answer" typed with no checklist and no matter yet is a new message, not an
            # answer: "…我当爸爸的去办新生儿出生一件事要带什么" read as inform_fact gets its guide
            # (issue #13: naming the one thing always works, outside the checklist too).
            typed_without_context = answering and not text.startswith("/")
            if naming or maybe_answer or typed_without_context:  # the usual answer (buttons when close)
                return [FollowupAction(FIND_THING)]
            dispatcher.utter_message(text=render.render_ask_which())
            return []
        codes = [t.code for t in themes]
        state = st.for_codes(state, codes)
        first = not st.known_facts(state)
        noted = ""
        role = None if answering else recent_entity(tracker, "applicant_role")
        if role:  # "孩子他爸去办" said before: who applies is known, not asked
            applicant = st.prefill_applicant(state, build(themes, state), role)
            noted = f"您说由{applicant}来办，我就按这个准备。" if applicant else ""

        if answering:
            fact_key = latest_entity(tracker, "fact_key")
            # Typed, not a button: maybe a change of an earlier answer (不对，是妈妈来办). Answered
            # questions are only in the checklist built without any facts.
            changed = None
            every_question = None
            if not fact_key:
                every_question = build(themes, {st.CODES_KEY: codes})
                changed = st.change_answer(state, every_question, text, latest_entity(tracker, "applicant_role"))
            if changed:
                noted = f"好的，改成“{changed}”了。"
            else:
                pending = next_question(build(themes, state), state)
                if maybe_answer and (pending is None or st.parse_answer(pending, text) is None):
                    return [FollowupAction(FIND_THING)]  # a new matter, not an answer
                if pending is None and intent != INFORM_FACT:  # the list was already shown: 要得 / 冇得
                    dispatcher.utter_message(text=_after_the_list(state, every_question, text))
                    return []
                understood = st.apply_answer(state, pending, fact_key, latest_entity(tracker, "fact_value"), text)
                if not understood and pending is not None:
                    dispatcher.utter_message(text="不好意思，我没听明白。请点下面的按钮回答，或者回“跳过”。")
                    ask(dispatcher, pending, [t.title for t in themes], first=False)
                    return [SlotSet(st.SLOT_FACTS, state)]
            first = False

        checklist = build(themes, state)
        question = next_question(checklist, state)
        if question is not None:
            ask(dispatcher, question, [t.title for t in themes], first=first, noted=noted)
        else:
            if not answering and not first and not noted:  # asked again: say whose answers these are
                noted = _kept_answers_note(state, build(themes, {st.CODES_KEY: codes}))
            listed = render_list(checklist, state)
            dispatcher.utter_message(
                text="\n".join(filter(None, [noted, listed])),
                json_message=checklist_card(themes, listed),
            )
        return [SlotSet(st.SLOT_FACTS, state), *_thing_events(codes, current, previous)]
