"""``action_find_thing``: render what ``knowledge.resolve`` decided for the citizen's words.

No thresholds here: the decision (sure / choose / guess / two things / not a one thing / none) is
made in one place, ``knowledge/resolve.py`` (issue #13)."""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import knowledge_client, named, render
from actions.complaint import record_complaint
from actions.config import SETTINGS
from actions.latest import latest_search_text, latest_text
from knowledge.models import Theme

logger = logging.getLogger(__name__)

# Values of the categorical slot `match_verdict` (see domain.yml). "none" is avoided on
# purpose: Rasa featurises an unset categorical slot as the string "none".
SLOT_VERDICT = "match_verdict"
SLOT_THING = "current_thing"
SLOT_PREVIOUS = "previous_thing"  # the thing discussed before `current_thing` ("回到刚才那个")
VERDICT_SURE = "sure"
VERDICT_AMBIGUOUS = "ambiguous"
VERDICT_NO_MATCH = "no_match"


PERSON_GROUP = "person_group"
GREEN_CHANNEL = "utter_offer_green_channel"
CHOOSE_PREFIX = "/choose_thing"


def choose_payload(code: str) -> str:
    return CHOOSE_PREFIX + json.dumps({"thing_code": code}, ensure_ascii=False, separators=(",", ":"))


def latest_entity(tracker: Tracker, entity: str) -> str | None:
    value = next(tracker.get_latest_entity_values(entity), None)
    return str(value) if value else None


def switch_events(code: str, current: Any) -> list[EventType]:
    """Make `code` the current thing; the one it replaces becomes `previous_thing`."""
    if code == current:
        return []
    events: list[EventType] = [SlotSet(SLOT_THING, code)]
    if current:
        events.append(SlotSet(SLOT_PREVIOUS, current))
    return events


def answer_theme(dispatcher: CollectingDispatcher, theme: Theme, current: Any = None) -> list[EventType]:
    dispatcher.utter_message(text=render.render_thing(theme))
    events = switch_events(theme.code, current) or [SlotSet(SLOT_THING, theme.code)]
    return [*events, SlotSet(SLOT_VERDICT, VERDICT_SURE)]


def answer_no_match(dispatcher: CollectingDispatcher) -> list[EventType]:
    dispatcher.utter_message(
        text=render.render_no_match(),
        buttons=[
            {"title": "要，转人工", "payload": "/ask_human"},
            {"title": "不用，我换个说法", "payload": "/deny"},
        ],
    )
    return [SlotSet(SLOT_VERDICT, VERDICT_NO_MATCH)]


def answer_service_error(dispatcher: CollectingDispatcher) -> list[EventType]:
    dispatcher.utter_message(text=render.render_service_error())
    return [SlotSet(SLOT_VERDICT, VERDICT_NO_MATCH)]


# Kinds recorded as a complaint case (the person's words, for 12345's follow-up), as
# action_record_complaint does for a short complaint.
RECORDED_KINDS = ("complaint", "consumer")


async def answer_not_a_thing(
    dispatcher: CollectingDispatcher, kind: str, department: str | None, tracker: Tracker | None = None
) -> list[EventType]:
    """Not a one thing (complaint, consumer dispute, suggestion, policy question, chit-chat, a
    possible 办不成事): say so plainly, point to the hotline, offer a human. A complaint is recorded
    (with ``tracker``). The 办不成事 form is only offered (a button the person presses), never
    opened from here."""
    case_id = await record_complaint(tracker) if tracker is not None and kind in RECORDED_KINDS else None
    buttons: list[dict[str, str]] = []
    if kind == "bancheng_candidate":
        buttons = [
            {"title": "要，反映办不成事", "payload": "/report_bancheng"},
            {"title": "转人工", "payload": "/ask_human"},
            {"title": "不用了", "payload": "/deny"},
        ]
    elif kind != "chitchat":
        buttons = [
            {"title": "要，转人工", "payload": "/ask_human"},
            {"title": "不用了", "payload": "/deny"},
        ]
    dispatcher.utter_message(text=render.render_not_a_thing(kind, department, case_id=case_id), buttons=buttons)
    return [SlotSet(SLOT_VERDICT, VERDICT_NO_MATCH)]


async def answer_from_text(
    dispatcher: CollectingDispatcher,
    text: str,
    current: Any = None,
    green_channel: bool = False,
    tracker: Tracker | None = None,
) -> list[EventType]:
    """Render ``knowledge.resolve`` for free text (the decision is made there, not here): the
    full guide (sure), the guide and a note on a second matter (two_things), a choice (choose), a
    question (guess), an honest "not something I can look up" (not_a_thing), or "not sure".
    With ``green_channel`` (elderly, disabled, pregnant or ill) a guide is followed by the
    绿色通道 / 帮代办 offer."""
    try:
        res = await knowledge_client.resolve(text)
    except Exception:  # the service failing must not break the conversation
        logger.exception("knowledge resolve failed for %r", text)
        return answer_service_error(dispatcher)

    verdict = knowledge_client.verdict_name(res)
    themes = list(res.themes)
    if verdict in ("sure", "two_things") and themes:
        theme = await knowledge_client.get_theme(themes[0].code)
        if theme is not None:
            events = answer_theme(dispatcher, theme, current)
            if verdict == "two_things" and len(themes) > 1:
                events += await note_second_thing(dispatcher, themes[1].code)
            if green_channel:
                dispatcher.utter_message(response=GREEN_CHANNEL)
            return events
        logger.warning("resolve returned unknown code %s", themes[0].code)
    elif verdict == "choose" and themes:
        candidates = themes[: SETTINGS.max_candidates]
        return offer_candidates(dispatcher, candidates, render.render_choose([h.title for h in candidates]))
    elif verdict == "guess" and themes:
        candidates = themes[: SETTINGS.max_candidates]
        return offer_candidates(dispatcher, candidates, render.render_guess([h.title for h in candidates]))
    elif verdict == "not_a_thing":
        return await answer_not_a_thing(
            dispatcher, knowledge_client.kind_name(res), getattr(res, "department", None), tracker
        )
    return answer_no_match(dispatcher)


async def note_second_thing(dispatcher: CollectingDispatcher, second: str) -> list[EventType]:
    """A message that adds a second matter (上户口，还要领育儿补贴; resolve's ``two_things``): after
    the first one's guide, a short note with a button for the second, which becomes
    ``previous_thing`` (so 两件一起列清单 and 回到刚才那个 reach it). Nothing when the lookup fails."""
    try:
        theme = await knowledge_client.get_theme(second)
    except Exception:  # the note is extra: never break the answer already given
        logger.exception("second-matter lookup failed")
        return []
    if theme is None:
        return []
    dispatcher.utter_message(
        text=render.render_second_thing(theme.title),
        buttons=[{"title": theme.title, "payload": choose_payload(theme.code)}],
    )
    return [SlotSet(SLOT_PREVIOUS, theme.code)]


def offer_candidates(dispatcher: CollectingDispatcher, candidates: list[Any], text: str) -> list[EventType]:
    """Ask which one thing is meant: a button per candidate and 都不是."""
    buttons = [{"title": h.title, "payload": choose_payload(h.code)} for h in candidates]
    buttons.append({"title": "都不是", "payload": "/deny"})
    dispatcher.utter_message(text=text, buttons=buttons)
    return [SlotSet(SLOT_VERDICT, VERDICT_AMBIGUOUS)]


def offered_buttons(tracker: Tracker) -> list[dict[str, Any]]:
    """The buttons of the assistant's message right before the person's latest one ([] if none)."""
    users = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            users += 1
            if users > 1:
                return []
        elif event.get("event") == "bot" and users == 1:
            return [b for b in (event.get("data") or {}).get("buttons") or [] if isinstance(b, dict)]
    return []


def offered_codes(tracker: Tracker) -> list[str]:
    """The theme codes of the candidate buttons offered right before the person's latest message."""
    codes = []
    for button in offered_buttons(tracker):
        payload = str(button.get("payload") or "")
        if payload.startswith(CHOOSE_PREFIX):
            try:
                codes.append(str(json.loads(payload.removeprefix(CHOOSE_PREFIX))["thing_code"]))
            except (ValueError, KeyError, TypeError):
                continue
    return codes


class ActionFindThing(Action):
    """Answer describe_situation (and nlu_fallback) by matching; choose_thing by code."""

    def name(self) -> str:
        return "action_find_thing"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        current = tracker.get_slot(SLOT_THING)
        # A typed theme code, else a one thing named by its official name.
        code = latest_entity(tracker, "thing_code") or named.official_code(tracker)
        if code:
            try:
                theme = await knowledge_client.get_theme(code)
            except Exception:
                logger.exception("knowledge get failed for %s", code)
                return answer_service_error(dispatcher)
            if theme is not None:
                return answer_theme(dispatcher, theme, current)
            logger.info("unknown thing_code %s; matching the text instead", code)
        text = latest_text(tracker)
        if not text.strip() or text.startswith("/"):
            return answer_no_match(dispatcher)
        # Where the person lives says nothing about the matter and only blurs the search
        # (我是五峰铺的，要办退休: 0.56 "none" with the town, 0.80 "sure" without).
        green = latest_entity(tracker, PERSON_GROUP) is not None
        return await answer_from_text(
            dispatcher, latest_search_text(tracker) or text, current, green_channel=green, tracker=tracker
        )


class ActionPersonGroup(Action):
    """"我七十多岁了，腿脚不方便，想办残疾证": the 绿色通道 / 帮代办 offer, and the guide first when
    the message names a matter the search is sure of (nothing else is said about a matter here:
    "我是残疾人" alone names none)."""

    def name(self) -> str:
        return "action_person_group"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        events: list[EventType] = []
        text = latest_search_text(tracker)
        if text and not text.startswith("/"):
            try:
                hit = await knowledge_client.sure_hit(text)
                theme = await knowledge_client.get_theme(hit.code) if hit else None
            except Exception:  # the offer below still helps
                logger.exception("knowledge match failed for a person-group message")
                theme = None
            if theme is not None:
                events = answer_theme(dispatcher, theme, tracker.get_slot(SLOT_THING))
        dispatcher.utter_message(response=GREEN_CHANNEL)
        # Rasa's rules need this action to set match_verdict on every outcome: cleared when no
        # matter was answered (an earlier "ambiguous" must not make the next 要得 pick a candidate).
        return events or [SlotSet(SLOT_VERDICT, None)]


class ActionTakeCandidate(Action):
    """是的 after the candidate question: the candidate when only one was offered; with several,
    the same buttons again ("which one?"); with none, ask what the matter is."""

    def name(self) -> str:
        return "action_take_candidate"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        codes = offered_codes(tracker)
        if len(codes) == 1:
            try:
                theme = await knowledge_client.get_theme(codes[0])
            except Exception:
                logger.exception("knowledge get failed for %s", codes[0])
                return answer_service_error(dispatcher)
            if theme is not None:
                return answer_theme(dispatcher, theme, tracker.get_slot(SLOT_THING))
        if len(codes) > 1:
            dispatcher.utter_message(text=render.render_which_candidate(), buttons=offered_buttons(tracker))
            return [SlotSet(SLOT_VERDICT, VERDICT_AMBIGUOUS)]
        dispatcher.utter_message(response="utter_ask_what_matter")
        return []
