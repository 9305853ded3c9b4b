"""State and parsing for the personal checklist dialogue (``action_checklist``).

The slot ``checklist_facts`` holds one dict: the facts the person told us (``knowledge.checklist``
Situation keys), ``None`` for a question the person skipped, and ``_codes``: the theme(s) the
checklist is for. No other state is needed: the next question is recomputed from the facts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from knowledge.checklist import Checklist, MergedChecklist, Question, Situation, parse_fact
from knowledge.checklist_answers import is_skip, read_answer
from knowledge.checklist_rules import FACTS, value_key

SLOT_FACTS = "checklist_facts"
CODES_KEY = "_codes"
SKIP_VALUE = "skip"  # button payload value of "不晓得，跳过"
MAX_QUESTIONS = 4  # questions asked (answered or skipped) before the list is shown anyway
APPLICANT = "applicant"  # the fact "这次由谁来办？"


def fact_payload(fact: str, value: str) -> str:
    """Button payload that answers one checklist question."""
    body = json.dumps({"fact_key": fact, "fact_value": value}, ensure_ascii=False, separators=(",", ":"))
    return "/inform_fact" + body


def load_state(raw: Any) -> dict[str, Any]:
    """The slot value as a dict (anything else counts as empty)."""
    return dict(raw) if isinstance(raw, Mapping) else {}


def state_codes(state: Mapping[str, Any]) -> list[str]:
    codes = state.get(CODES_KEY)
    return [str(c) for c in codes] if isinstance(codes, list) else []


def known_facts(state: Mapping[str, Any]) -> dict[str, Any]:
    """The fact keys asked so far (answered or skipped), without the bookkeeping keys."""
    return {k: v for k, v in state.items() if k in Situation.model_fields}


def situation(state: Mapping[str, Any]) -> Situation:
    """The Situation for ``knowledge.checklist``; skipped facts stay unknown (None)."""
    facts: dict[str, Any] = {}
    for key, value in known_facts(state).items():
        try:
            Situation.model_validate({key: value})
        except ValueError:
            value = None  # a stored value the vocabulary no longer knows: ask again later
        facts[key] = value
    return Situation.model_validate(facts)


def for_codes(state: Mapping[str, Any], codes: Sequence[str]) -> dict[str, Any]:
    """The state for these theme codes: kept when they are the same, else started afresh."""
    if state_codes(state) == list(codes):
        return dict(state)
    return {CODES_KEY: list(codes)}


def parse_answer(question: Question, text: str) -> str | bool | None:
    """A typed answer to ``question``: an offered value key or title typed exactly, else what
    ``knowledge.checklist_answers.read_answer`` reads. ``None`` when the text does not answer it."""
    text = text.strip()
    if not text:
        return None
    offered = {o.value for o in question.options}
    try:
        value = parse_fact(question.fact, text)
    except ValueError:
        pass
    else:
        if value_key(value) in offered:
            return value
    return read_answer(question.fact, offered, text)


def apply_answer(
    state: dict[str, Any], pending: Question | None, fact_key: str | None, fact_value: str | None, text: str
) -> bool:
    """Record the person's answer in ``state``. Returns False when nothing could be understood."""
    if fact_key and fact_key in Situation.model_fields:
        if fact_value is None or fact_value == SKIP_VALUE:
            state[fact_key] = None
            return True
        try:
            state[fact_key] = parse_fact(fact_key, fact_value)
        except ValueError:
            return False
        return True
    if pending is None:
        return False
    if is_skip(text):
        state[pending.fact] = None
        return True
    value = parse_answer(pending, text)
    if value is None:
        return False
    state[pending.fact] = value
    return True


def prefill_applicant(state: dict[str, Any], checklist: Checklist | MergedChecklist, role: str) -> str | None:
    """Take ``role`` (the ``applicant_role`` entity: 孩子他爸, 我自己) as the answer to the
    checklist's "who applies" question when it has one that is not answered yet. Returns the
    option's title (爸爸) when it was taken, else None."""
    question = next((q for q in checklist.questions if q.fact == APPLICANT), None)
    if question is None or APPLICANT in known_facts(state):
        return None
    value = read_answer(APPLICANT, {o.value for o in question.options}, role)
    if value is None:
        return None
    state[APPLICANT] = value
    return FACTS[APPLICANT].title_of(value)


# Words that say an earlier answer was wrong (不对，是妈妈来办 · 讲错了，离婚了 · 改成外地户口).
CORRECTION_CUES = ("不对", "错了", "讲错", "说错", "搞错", "弄错", "打错", "改成", "改为", "改一下", "改下", "换成")
_CUES = re.compile("|".join(map(re.escape, CORRECTION_CUES)))


def has_correction(text: str) -> bool:
    """The text says an earlier answer was wrong (one of ``CORRECTION_CUES``)."""
    return bool(_CUES.search(text))


def answered_facts(state: Mapping[str, Any]) -> dict[str, Any]:
    """The facts the person answered (not skipped)."""
    return {f: v for f, v in known_facts(state).items() if v is not None}


def without_cues(text: str) -> str:
    """The text with its correction words replaced by a comma (不对，没离婚 -> ，，没离婚), so
    that the 不 of 不对 negates nothing."""
    return _CUES.sub("，", text)


def change_answer(
    state: dict[str, Any], checklist: Checklist | MergedChecklist, text: str, role: str | None
) -> str | None:
    """Change one earlier answer the person corrects, and return its new option title (None when
    the message changes nothing). ``checklist`` is built without any facts, so that it holds every
    question, answered or not. Two ways to say it:

    - who applies, as the ``applicant_role`` entity (``role``: 不对，是妈妈来办);
    - a correction word (``CORRECTION_CUES``) plus a new value for one answered question: a
      choice (讲错了，是离婚了) or a yes/no fact named by its own words (不对，没离婚 · 搞错了，
      是外地户口). A bare yes or no word changes nothing: 不对 alone is not "no".

    Only a value different from the recorded one counts, and only when exactly one question
    changes; otherwise the message is read as usual."""
    answered = answered_facts(state)
    corrected = has_correction(text)
    rest = without_cues(text)
    changes: dict[str, Any] = {}
    for question in checklist.questions:
        if question.fact not in answered:
            continue
        offered = {o.value for o in question.options}
        if question.fact == APPLICANT and role:
            value = read_answer(APPLICANT, offered, role)
        elif not corrected:
            continue
        elif FACTS[question.fact].is_bool:
            value = read_answer(question.fact, offered, rest, phrases_only=True)
        else:
            value = parse_answer(question, rest)
        if value is not None and value_key(value) != value_key(answered[question.fact]):
            changes[question.fact] = value
    if len(changes) != 1:
        return None
    ((fact, value),) = changes.items()
    state[fact] = value
    return FACTS[fact].title_of(value)


def change_example(state: Mapping[str, Any], checklist: Checklist | MergedChecklist) -> str | None:
    """An example of a change the person could say: another option's title of the first answered
    question (改成爸爸来办 -> "爸爸"). ``checklist`` is built without any facts. None when no
    question was answered."""
    answered = answered_facts(state)
    for question in checklist.questions:
        if question.fact in answered:
            other = next((o for o in question.options if o.value != value_key(answered[question.fact])), None)
            if other is not None:
                return other.title
    return None
