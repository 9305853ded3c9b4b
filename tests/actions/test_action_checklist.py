"""``action_checklist`` against the real knowledge service and catalogue (no fakes)."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from actions_fakes import FakeHit, slot_events
from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions import checklist_state as st
from actions import checklist_things as things
from actions.checklist import ActionChecklist
from knowledge.checklist import Option, Question

BIRTH = "43PCN0009"
SUBSIDY = "43PCP0022"


@pytest.fixture
def turn(make_tracker: Callable[..., Tracker]) -> Callable[..., Any]:
    """Run one action_checklist turn; returns (text, buttons, slots after the turn)."""

    async def _turn(text: str, slots: dict[str, Any], intent: str = "ask_checklist", fact=None, entities=None):
        entities = list(entities or [])
        if fact is not None:
            entities += [{"entity": "fact_key", "value": fact[0]}, {"entity": "fact_value", "value": fact[1]}]
        dispatcher = CollectingDispatcher()
        tracker = make_tracker(text, intent=intent, entities=entities, slots=slots)
        events = await ActionChecklist().run(dispatcher, tracker, {})
        new_slots = {**slots, **slot_events(events)}
        body = "\n".join(m.get("text") or "" for m in dispatcher.messages)
        buttons = [b for m in dispatcher.messages for b in m.get("buttons") or []]
        assert "\n\n" not in body
        return body, buttons, new_slots

    return _turn


def press(buttons: list[dict[str, str]], title: str) -> tuple[str, tuple[str, str]]:
    """The payload of the button titled `title`, and its (fact_key, fact_value)."""
    button = next(b for b in buttons if b["title"] == title)
    import json

    data = json.loads(button["payload"].removeprefix("/inform_fact"))
    return button["payload"], (data["fact_key"], data["fact_value"])


async def test_birth_asks_who_and_ethnicity_then_lists(use_real, turn):
    body, buttons, slots = await turn("帮我列个清单", {"current_thing": BIRTH})
    assert "这次由谁来办" in body
    assert {b["title"] for b in buttons} >= {"妈妈", "爸爸", "不晓得，跳过"}
    payload, fact = press(buttons, "爸爸")
    assert payload == '/inform_fact{"fact_key":"applicant","fact_value":"father"}'

    body, buttons, slots = await turn(payload, slots, intent="inform_fact", fact=fact)
    assert "民族" in body and "材料清单】" not in body
    payload, fact = press(buttons, "民族不同")

    body, buttons, slots = await turn(payload, slots, intent="inform_fact", fact=fact)
    assert buttons == []
    bring = body.split("要准备的材料")[1].split("不用准备")[0]
    assert "新生儿民族成份申请" in bring
    assert "授权委托书" in bring
    assert slots["checklist_facts"]["applicant"] == "father"
    assert slots["checklist_facts"]["parents_same_ethnicity"] is False


async def test_mother_same_ethnicity_not_needed(use_real, turn):
    slots = {"current_thing": BIRTH, "checklist_facts": {"_codes": [BIRTH], "applicant": "mother"}}
    body, buttons, slots = await turn("是同一个民族", slots, intent="inform_fact")  # typed answer
    assert buttons == []
    not_needed = body.split("您这次不用准备")[1]
    assert "新生儿民族成份申请" in not_needed and "授权委托书" in not_needed


async def test_skipping_leaves_the_item_as_depends(use_real, turn):
    body, buttons, slots = await turn("按我的情况要带么子", {"current_thing": BIRTH})
    question = body.splitlines()[-1]
    body, buttons, slots = await turn("不晓得", slots, intent="deny")  # typed skip (NLU: deny)
    assert question not in body and buttons  # the next question
    payload, fact = press(buttons, "不晓得，跳过")
    body, buttons, slots = await turn(payload, slots, intent="inform_fact", fact=fact)
    assert buttons == []
    assert set(slots["checklist_facts"]) == {"_codes", "applicant", "parents_same_ethnicity"}
    assert slots["checklist_facts"]["applicant"] is None
    depends = body.split("看您的情况，可能还要")[1]
    assert "新生儿民族成份申请" in depends and "看情况：父母双方民族不同时需要" in depends
    assert "授权委托书" in depends


async def test_unclear_answer_asks_again(use_real, turn):
    body, _, slots = await turn("帮我列个清单", {"current_thing": BIRTH})
    again, buttons, slots2 = await turn("今天好热", slots, intent="inform_fact")
    assert "没听明白" in again and body.splitlines()[-1] in again
    assert st.known_facts(slots2["checklist_facts"]) == {}


async def test_two_things_in_one_message_are_merged(use_real, turn):
    body, buttons, slots = await turn("生了伢子要上户口，还要领育儿补贴，给我列个清单", {})
    assert slots["checklist_facts"]["_codes"] == [BIRTH, SUBSIDY]
    assert slots["current_thing"] == BIRTH and slots["previous_thing"] == SUBSIDY
    for _ in range(st.MAX_QUESTIONS):
        if not buttons:
            break
        payload, fact = press(buttons, buttons[0]["title"] if buttons[0]["title"] != "妈妈" else "爸爸")
        body, buttons, slots = await turn(payload, slots, intent="inform_fact", fact=fact)
    assert buttons == [] and "合并材料清单" in body
    saved = int(body.split("合并后少准备")[1].split("项")[0])
    assert saved >= 1


async def test_both_together_with_previous_thing(use_real, turn):
    slots = {"current_thing": BIRTH, "previous_thing": SUBSIDY}
    body, buttons, slots = await turn("两件事一起的清单", slots)
    assert slots["checklist_facts"]["_codes"] == [BIRTH, SUBSIDY]
    assert "新生儿出生一件事＋育儿补贴申领" in body and buttons


async def test_at_most_four_questions(use_real, turn):
    facts = {
        "_codes": [BIRTH, SUBSIDY],
        "applicant": None,
        "parents_same_ethnicity": None,
        "parents_divorced": None,
    }
    slots = {"current_thing": BIRTH, "previous_thing": SUBSIDY, "checklist_facts": facts}
    payload = '/inform_fact{"fact_key":"is_minor","fact_value":"true"}'
    body, buttons, _ = await turn(payload, slots, intent="inform_fact", fact=("is_minor", "true"))
    assert buttons == [] and "合并材料清单" in body


async def test_no_matter_known_asks_which(use_real, turn):
    body, buttons, slots = await turn("给我一张清单", {})
    assert "checklist_facts" not in slots and "哪件事" in body


async def test_single_matter_never_counts_as_two(use_real):
    assert await things.two_things("伢子读书的事，列个清单") is None  # ambiguous, one part
    assert await things.two_things("老人过世了，还要办丧葬补助") is None  # two parts, one matter
    assert await things.two_things("上户口和育儿补贴一起办") == [BIRTH, SUBSIDY]


class _WholeOnly:
    """A search that knows only the whole message (the parts name nothing)."""

    def __init__(self, hits: list[FakeHit]) -> None:
        self.hits = hits

    def search(self, query: str, k: int = 3) -> list[FakeHit]:
        return self.hits if query == "whole" else []


def test_pair_rule_on_scores():
    # The rule moved to knowledge.resolve.pair_of (issue #13: one decision, in one place).
    from knowledge.resolve import pair_of

    def pair(hits: list[FakeHit]) -> list[str] | None:
        return pair_of(["p1", "p2"], "whole", _WholeOnly(hits))

    assert pair([FakeHit("A", "a", 0.6), FakeHit("B", "b", 0.35)]) == ["A", "B"]
    assert pair([FakeHit("A", "a", 0.9), FakeHit("B", "b", 0.29)]) is None
    assert pair([FakeHit("A", "a", 0.5), FakeHit("A", "a", 0.5)]) is None


def question(fact: str, *options: tuple[str, str]) -> Question:
    """A checklist question on ``fact`` with (title, value) options."""
    return Question(fact=fact, prompt="?", options=[Option(title=t, value=v) for t, v in options])


def test_parse_typed_answers():
    who = question("applicant", ("妈妈", "mother"), ("爸爸", "father"))
    same = question("parents_same_ethnicity", ("是同一个民族", "true"), ("民族不同", "false"))
    assert st.parse_answer(who, "孩子爸爸来办") == "father"
    assert st.parse_answer(who, "今天好热") is None
    assert st.parse_answer(same, "民族不一样") is False
    assert st.parse_answer(same, "都是汉族") is True


async def test_yes_no_intents_answer_the_question(use_real, turn):
    facts = {"_codes": [SUBSIDY], "applicant": "mother"}
    body, buttons, slots = await turn(
        "冇得", {"current_thing": SUBSIDY, "checklist_facts": facts}, intent="deny"
    )
    assert slots["checklist_facts"]["parents_divorced"] is False
    assert buttons == [] and "育儿补贴" in body
    ack, buttons, after = await turn("要得", slots, intent="affirm")  # list already shown
    assert "材料" not in ack and buttons == [] and after == slots


DISABILITY = "43PCN0012"


async def test_a_typed_option_read_as_a_situation_answers_the_question(use_real, turn):
    body, buttons, slots = await turn("帮我列个清单", {"current_thing": DISABILITY})
    question = body.splitlines()[-1]
    titles = [b["title"] for b in buttons if b["title"] != "不晓得，跳过"]
    # NLU reads a bare option name (新办证, 智力) as describe_situation; right after the question
    # action_checklist takes it as the answer and moves on.
    body2, _, slots2 = await turn(titles[0], slots, intent="describe_situation")
    assert "没听明白" not in body2 and question not in body2.splitlines()[-1:], (question, body2)
    assert st.known_facts(slots2[st.SLOT_FACTS]) != st.known_facts(slots[st.SLOT_FACTS])


async def test_a_new_matter_during_the_checklist_goes_to_find_thing(use_real, make_tracker):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("帮我列个清单", intent="ask_checklist", slots={"current_thing": DISABILITY})
    events = await ActionChecklist().run(dispatcher, tracker, {})
    slots = {"current_thing": DISABILITY, **slot_events(events)}

    dispatcher = CollectingDispatcher()
    tracker = make_tracker("我想开个米粉店", intent="describe_situation", slots=slots)
    events = await ActionChecklist().run(dispatcher, tracker, {})
    assert events == [FollowupAction("action_find_thing")] and dispatcher.messages == []


async def test_a_typed_answer_with_no_checklist_and_no_matter_goes_to_find_thing(fake_service, make_tracker):
    # Issue #13: "…我当爸爸的去办新生儿出生一件事要带什么" read as inform_fact outside the checklist got
    # the generic "您想办哪件事呢"; it now goes to action_find_thing (which answers the named thing).
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("我当爸爸的去办新生儿出生一件事要带什么", intent="inform_fact")
    events = await ActionChecklist().run(dispatcher, tracker, {})
    assert events == [FollowupAction("action_find_thing")] and dispatcher.messages == []


async def test_the_matter_named_after_which_matter_starts_its_checklist(use_real, turn):
    body, _, slots = await turn("给我一张清单", {})
    assert "哪" in body  # which matter?
    body, buttons, slots = await turn("我要办退休", slots, intent="describe_situation")
    assert slots["current_thing"] == "43PCN0013" and st.state_codes(slots[st.SLOT_FACTS]) == ["43PCN0013"]
    assert buttons or "材料" in body


async def test_an_unclear_matter_after_which_matter_goes_to_find_thing(use_real, turn, make_tracker):
    _, _, slots = await turn("给我一张清单", {})
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("伢子的事", intent="describe_situation", slots=slots)
    events = await ActionChecklist().run(dispatcher, tracker, {})
    assert events == [FollowupAction("action_find_thing")]  # find_thing asks with buttons


async def test_who_applies_said_in_the_message_is_not_asked(use_real, make_tracker):
    role = [{"entity": "applicant_role", "value": "孩子他爸"}]
    tracker = make_tracker("孩子他爸去办，帮我列个清单", intent="ask_checklist", entities=role, slots={"current_thing": BIRTH})
    dispatcher = CollectingDispatcher()
    events = await ActionChecklist().run(dispatcher, tracker, {})
    body = dispatcher.messages[0]["text"]
    assert "您说由爸爸来办" in body and "这次由谁来办" not in body
    assert "民族" in body  # the next question that changes the list
    assert slot_events(events)["checklist_facts"]["applicant"] == "father"


async def test_who_applies_said_earlier_in_the_conversation_is_used(use_real, make_tracker):
    tracker = make_tracker("帮我列个清单", intent="ask_checklist", slots={"current_thing": BIRTH})
    earlier = {"text": "我堂客去办新生儿出生", "intent": {"name": "describe_situation"},
               "entities": [{"entity": "applicant_role", "value": "堂客"}]}
    tracker.events.insert(0, {"event": "user", "text": earlier["text"], "parse_data": earlier})
    dispatcher = CollectingDispatcher()
    events = await ActionChecklist().run(dispatcher, tracker, {})
    assert "您说由妈妈来办" in dispatcher.messages[0]["text"]
    assert slot_events(events)["checklist_facts"]["applicant"] == "mother"


async def test_a_role_the_question_does_not_offer_is_still_asked(use_real, make_tracker):
    role = [{"entity": "applicant_role", "value": "中介"}]  # an agent: the birth question offers 妈妈 / 爸爸
    tracker = make_tracker("中介去办", intent="ask_checklist", entities=role, slots={"current_thing": BIRTH})
    dispatcher = CollectingDispatcher()
    events = await ActionChecklist().run(dispatcher, tracker, {})
    body = dispatcher.messages[0]["text"]
    assert "这次由谁来办" in body and "您说由" not in body
    assert "applicant" not in slot_events(events)["checklist_facts"]


async def test_who_applies_can_be_changed_after_the_list(use_real, turn):
    slots = {"current_thing": BIRTH, "checklist_facts": {"_codes": [BIRTH], "applicant": "father"}}
    body, buttons, slots = await turn("民族不同", slots, intent="inform_fact")
    assert "授权委托书" in body.split("要准备的材料")[1].split("不用准备")[0]  # the father applies

    role = {"entity": "applicant_role", "value": "妈妈"}
    body, buttons, slots = await turn("不对，是妈妈来办", slots, intent="deny", entities=[role])
    assert body.startswith("好的，改成“妈妈”了。")
    assert slots["checklist_facts"]["applicant"] == "mother"
    assert slots["checklist_facts"]["parents_same_ethnicity"] is False  # the other answer is kept
    assert "授权委托书" in body.split("您这次不用准备")[1]  # the list follows the new answer


async def test_a_yes_no_answer_can_be_changed_after_the_list(use_real, turn):
    facts = {"_codes": [BIRTH], "applicant": "father", "parents_same_ethnicity": False}
    slots = {"current_thing": BIRTH, "checklist_facts": facts}
    body, _, slots = await turn("不对", slots, intent="deny")  # a bare no changes nothing
    assert slots["checklist_facts"] == facts
    assert body == "好的，哪一条要改？请说“改成”加新的情况，比如“改成妈妈”。"

    body, _, slots = await turn("改成是同一个民族", slots, intent="inform_fact")
    assert body.startswith("好的，改成“")
    assert slots["checklist_facts"] == {**facts, "parents_same_ethnicity": True}
    assert "民族成份申请" in body.split("您这次不用准备")[1]  # only for parents of two ethnic groups


async def test_who_applies_can_be_changed_while_a_question_is_open(use_real, turn):
    slots = {"current_thing": BIRTH, "checklist_facts": {"_codes": [BIRTH], "applicant": "father"}}
    role = {"entity": "applicant_role", "value": "堂客"}
    body, buttons, slots = await turn("刚才讲错了，我堂客去办", slots, intent="inform_fact", entities=[role])
    assert "好的，改成“妈妈”了。再问您一句" in body and "民族" in body  # the open question again
    assert slots["checklist_facts"] == {"_codes": [BIRTH], "applicant": "mother"}


async def test_an_answer_that_mentions_a_family_word_is_not_a_change(use_real, turn):
    slots = {"current_thing": BIRTH, "checklist_facts": {"_codes": [BIRTH], "applicant": "mother"}}
    body, buttons, slots = await turn("我和老公都是汉族", slots, intent="inform_fact")
    assert "改成" not in body
    assert slots["checklist_facts"]["applicant"] == "mother"
    assert slots["checklist_facts"]["parents_same_ethnicity"] is True


def test_change_answer_needs_a_correction_word_and_one_changed_choice():
    marital = question("marital_status", ("已婚", "married"), ("离异", "divorced"))
    divorced_parents = question("parents_divorced", ("离婚了", "true"), ("没离婚", "false"))
    checklist = SimpleNamespace(questions=[marital, divorced_parents])
    state = {"marital_status": "married", "parents_divorced": True}
    assert st.change_answer(state, checklist, "离婚了", None) is None  # no correction word
    assert st.change_answer(state, checklist, "讲错了，是已婚", None) is None  # the same value
    assert st.change_answer(state, checklist, "讲错了，我离婚了", None) == "离异"
    assert state == {"marital_status": "divorced", "parents_divorced": True}
    assert st.change_answer({"marital_status": None}, checklist, "讲错了，离婚了", None) is None  # skipped


def test_a_yes_no_answer_changes_only_when_its_own_words_are_said():
    divorced_parents = question("parents_divorced", ("离婚了", "true"), ("没离婚", "false"))
    hukou = question("county_hukou", ("本县户口", "true"), ("外地户口", "false"))
    checklist = SimpleNamespace(questions=[divorced_parents, hukou])
    state = {"parents_divorced": True, "county_hukou": True}
    assert st.change_answer(state, checklist, "不对", None) is None  # a bare no is not a change
    assert st.change_answer(state, checklist, "不对不对，不是的", None) is None
    assert st.change_answer(state, checklist, "没离婚", None) is None  # no correction word
    assert st.change_answer(state, checklist, "不对，没离婚", None) == "没有离婚"  # 不对's 不 negates nothing
    assert state == {"parents_divorced": False, "county_hukou": True}
    assert st.change_answer(state, checklist, "搞错了，我是外地户口", None) == "不在本县"
    assert state == {"parents_divorced": False, "county_hukou": False}
    # two answers at once: ambiguous, nothing changes
    assert st.change_answer(state, checklist, "讲错了，离婚了，户口在本县", None) is None
    assert state == {"parents_divorced": False, "county_hukou": False}


async def test_official_names_decide_the_checklists_matters(use_real, turn):
    """The ``thing`` entity (an official name, its value the theme code) is taken before the
    search and before the current matter; two official names give the merged checklist."""
    thing = [{"entity": "thing", "value": DISABILITY}]
    body, _, slots = await turn("帮我列个清单", {"current_thing": BIRTH}, entities=thing)
    assert slots["current_thing"] == DISABILITY and slots["previous_thing"] == BIRTH
    assert "残疾人服务一件事" in body

    both = [{"entity": "thing", "value": SUBSIDY}, {"entity": "thing", "value": BIRTH}]
    body, _, slots = await turn("这两个一件事的材料一起列", {}, entities=both)
    assert st.state_codes(slots["checklist_facts"]) == [SUBSIDY, BIRTH]


async def test_a_list_asked_for_again_says_it_follows_the_earlier_answers(use_real, turn):
    facts = {"_codes": [BIRTH], "applicant": "father", "parents_same_ethnicity": False}
    body, buttons, slots = await turn("帮我列个清单", {"current_thing": BIRTH, "checklist_facts": facts})
    assert body.startswith("这是按您前面的回答列的。要改哪一条，就说“改成妈妈”这样的话。"), body
    assert "民族成份申请" in body.split("要准备的材料")[1].split("不用准备")[0] and not buttons
    assert slots["checklist_facts"] == facts

    skipped = {"_codes": [BIRTH], "applicant": None, "parents_same_ethnicity": None}
    body, _, _ = await turn("帮我列个清单", {"current_thing": BIRTH, "checklist_facts": skipped})
    assert body.startswith("【新生儿出生一件事】材料清单"), body  # nothing answered: nothing to change
