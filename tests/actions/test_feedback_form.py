"""The 办不成事 form: answer validation, the explain-after-two-invalid path, stopping, filing the case."""

from __future__ import annotations

import pytest
import redis
from feedback_helpers import tracker, use_redis
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.cases import FORM_SLOTS, ActionFileCase, ValidateBanchengForm, find_phone
from records import case_store as store
from records.case_model import CaseKind

DOMAIN = {"forms": {"bancheng_form": {"required_slots": list(FORM_SLOTS)}}}


@pytest.fixture
def form() -> ValidateBanchengForm:
    return ValidateBanchengForm()


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("13812345678", "13812345678"),
        ("我的电话是 138 1234 5678，白天打", "13812345678"),
        ("0739-5421234", "0739-5421234"),
        ("座机07395421234", "0739-5421234"),
        ("12812345678", None),  # no mobile number starts with 12
        ("1381234567", None),  # 10 digits
        ("138123456789", None),  # 12 digits
        ("0731-5421234", None),  # not a Shaoyang landline
        ("不晓得", None),
    ],
)
def test_find_phone(text: str, phone: str | None) -> None:
    assert find_phone(text) == phone


def test_valid_matter_is_kept(form: ValidateBanchengForm) -> None:
    d = CollectingDispatcher()
    out = form.validate_case_matter(" 小孩上户口。", d, tracker("小孩上户口。"), DOMAIN)
    assert out["case_matter"] == "小孩上户口"
    assert out["case_invalid"] is None
    assert d.messages == []


def test_first_invalid_answer_asks_again(form: ValidateBanchengForm) -> None:
    d = CollectingDispatcher()
    out = form.validate_case_place("嗯", d, tracker("嗯", intent="affirm"), DOMAIN)
    assert out["case_place"] is None
    assert out["case_invalid"] == {"case_place": 1}
    assert len(d.messages) == 1
    assert "buttons" not in d.messages[0] or not d.messages[0]["buttons"]


def test_second_invalid_answer_explains_and_offers_to_stop(form: ValidateBanchengForm) -> None:
    d = CollectingDispatcher()
    t = tracker("不晓得", slots={"case_invalid": {"case_place": 1}})
    out = form.validate_case_place("不晓得", d, t, DOMAIN)
    assert out["case_place"] is None
    assert out["case_invalid"] == {"case_place": 2}
    [msg] = d.messages
    assert "县政务服务中心" in msg["text"]  # what a place answer looks like
    assert "0739-12345" in msg["text"]
    assert {"title": "不填了", "payload": "/stop_form"} in msg["buttons"]


def test_invalid_count_is_per_question_and_resets_on_a_valid_answer(form: ValidateBanchengForm) -> None:
    d = CollectingDispatcher()
    t = tracker("x", slots={"case_invalid": {"case_place": 1, "case_matter": 1}})
    first = form.validate_case_story("啊", d, t, DOMAIN)  # another question: its own count starts at 1
    assert first["case_invalid"] == {"case_place": 1, "case_matter": 1, "case_story": 1}
    ok = form.validate_case_place("白仓镇便民服务中心", d, t, DOMAIN)
    assert ok == {"case_place": "白仓镇便民服务中心", "case_invalid": {"case_matter": 1}}


def test_story_needs_a_few_words(form: ValidateBanchengForm) -> None:
    d = CollectingDispatcher()
    assert form.validate_case_story("没办", d, tracker("没办"), DOMAIN)["case_story"] is None
    story = "去了三趟，说材料不对"
    assert form.validate_case_story(story, d, tracker(story), DOMAIN)["case_story"] == story


@pytest.mark.parametrize(("text", "intent"), [("算了，不办了", "nlu_fallback"), ("/stop_form", "stop_form")])
def test_stop_ends_the_form_without_answers(form: ValidateBanchengForm, text: str, intent: str) -> None:
    d = CollectingDispatcher()
    t = tracker(text, intent=intent, slots={"case_matter": "办退休"})
    out = form.validate_case_place(text, d, t, DOMAIN)
    assert out["case_stopped"] is True
    assert out["requested_slot"] is None
    assert all(out[s] is None for s in FORM_SLOTS)


@pytest.mark.parametrize(
    ("text", "intent", "consent"),
    [("/affirm", "affirm", True), ("可以", "nlu_fallback", True), ("要得", "nlu_fallback", True),
     ("/deny", "deny", False), ("不留", "nlu_fallback", False), ("不要打电话给我", "nlu_fallback", False)],
)
def test_consent(form: ValidateBanchengForm, text: str, intent: str, consent: bool) -> None:
    out = form.validate_case_contact_consent(text, CollectingDispatcher(), tracker(text, intent=intent), DOMAIN)
    assert out["case_contact_consent"] is consent


def test_consent_with_a_number_fills_the_contact_too(form: ValidateBanchengForm) -> None:
    text = "可以，13912345678"
    out = form.validate_case_contact_consent(text, CollectingDispatcher(), tracker(text), DOMAIN)
    assert out["case_contact_consent"] is True
    assert out["case_contact"] == "13912345678"


def test_unclear_consent_is_invalid(form: ValidateBanchengForm) -> None:
    d = CollectingDispatcher()
    out = form.validate_case_contact_consent("白仓镇", d, tracker("白仓镇"), DOMAIN)
    assert out["case_contact_consent"] is None
    assert out["case_invalid"] == {"case_contact_consent": 1}


def test_contact_must_be_a_phone_number(form: ValidateBanchengForm) -> None:
    d = CollectingDispatcher()
    assert form.validate_case_contact("12345", d, tracker("12345"), DOMAIN)["case_contact"] is None
    assert form.validate_case_contact("0739-5421234", d, tracker("0739-5421234"), DOMAIN)["case_contact"] == (
        "0739-5421234"
    )


async def test_no_consent_means_no_contact_question(form: ValidateBanchengForm) -> None:
    d = CollectingDispatcher()
    filled = {"case_matter": "办退休", "case_place": "人社局", "case_story": "说归社保局管", "case_contact_consent": False}
    slots = await form.required_slots(list(FORM_SLOTS), d, tracker("不留", slots=filled), DOMAIN)
    assert "case_contact" not in slots
    stopped = await form.required_slots(list(FORM_SLOTS), d, tracker("x", slots={"case_stopped": True}), DOMAIN)
    assert stopped == []
    # No consent and everything else answered: the form ends (requested_slot None).
    event = await form.next_requested_slot(d, tracker("不留", slots=filled), DOMAIN)
    assert event == SlotSet("requested_slot", None)


FILLED = {
    "case_matter": "小孩上户口",
    "case_place": "县政务服务中心",
    "case_story": "去了三趟，每次都说材料不对",
    "current_thing": "43PCN0009",
}


async def test_file_case_stores_it_in_redis(
    redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_redis(monkeypatch, redis_url)
    d = CollectingDispatcher()
    slots = {**FILLED, "case_contact_consent": True, "case_contact": "13812345678"}
    events = await ActionFileCase().run(d, tracker("13812345678", slots=slots, channel="telegram"), {})

    [case_id] = store.case_ids(redis_client, CaseKind.bancheng)
    assert case_id.startswith("BC")
    case = store.get_case(redis_client, case_id)
    assert case is not None
    assert (case.kind, case.matter, case.place, case.story) == (CaseKind.bancheng, "小孩上户口", "县政务服务中心",
                                                                "去了三趟，每次都说材料不对")
    assert (case.current_thing, case.channel, case.sender) == ("43PCN0009", "telegram", "feedback-user")
    assert case.contact_consent is True and case.contact == "13812345678"
    assert case.status.value == "new"
    text = d.messages[0]["text"]
    assert case_id in text and "红石科技园24栋" in text and "0739-12345" in text and "13812345678" in text
    assert SlotSet("case_id", case_id) in events
    assert SlotSet("case_matter", None) in events  # the form can be used again


async def test_contact_is_not_stored_without_consent(
    redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_redis(monkeypatch, redis_url)
    slots = {**FILLED, "case_contact_consent": False, "case_contact": "13812345678"}
    await ActionFileCase().run(CollectingDispatcher(), tracker("不留", slots=slots), {})
    [case] = store.list_cases(redis_client, CaseKind.bancheng)
    assert case.contact is None and case.contact_consent is False
    assert case.channel == "rest"


async def test_stopped_form_files_nothing(
    redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_redis(monkeypatch, redis_url)
    d = CollectingDispatcher()
    await ActionFileCase().run(d, tracker("不办了", slots={"case_stopped": True}), {})
    assert store.case_ids(redis_client) == []
    assert "没有登记" in d.messages[0]["text"]


async def test_redis_down_still_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    use_redis(monkeypatch, "redis://127.0.0.1:1/0")
    d = CollectingDispatcher()
    events = await ActionFileCase().run(d, tracker("x", slots={**FILLED, "case_contact_consent": False}), {})
    assert "0739-12345" in d.messages[0]["text"]
    assert not any(e.get("name") == "case_id" for e in events)


@pytest.mark.parametrize("slot", ["case_matter", "case_place", "case_story", "case_contact_consent", "case_contact"])
def test_asking_for_a_human_mid_form_is_not_an_answer(form: ValidateBanchengForm, slot: str) -> None:
    d = CollectingDispatcher()
    t = tracker("转人工", intent="ask_human", slots={"case_matter": "办退休"})
    out = getattr(form, f"validate_{slot}")("转人工", d, t, DOMAIN)
    assert out[slot] is None
    assert out["case_stopped"] is True and out["requested_slot"] is None  # the form ends
    assert out["case_matter"] is None
    assert d.messages == []


def test_unsure_ask_human_guess_is_still_an_answer(form: ValidateBanchengForm) -> None:
    d = CollectingDispatcher()
    t = tracker("人社局帮我办的窗口", intent="ask_human")
    t.latest_message["intent"]["confidence"] = 0.4
    out = form.validate_case_place("人社局帮我办的窗口", d, t, DOMAIN)
    assert out["case_place"] == "人社局帮我办的窗口"
    assert "case_stopped" not in out


async def test_file_case_after_ask_human_goes_to_the_handoff_consent(
    redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_redis(monkeypatch, redis_url)
    d = CollectingDispatcher()
    events = await ActionFileCase().run(d, tracker("转人工", intent="ask_human", slots={"case_stopped": True}), {})
    assert store.case_ids(redis_client) == []
    assert FollowupAction("utter_ask_handoff_consent") in events
    assert SlotSet("case_stopped", None) in events
    assert "没有登记" not in d.messages[0]["text"]


async def test_stop_without_a_human_request_does_not_hand_off(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_redis(monkeypatch, redis_url)
    events = await ActionFileCase().run(CollectingDispatcher(), tracker("不办了", slots={"case_stopped": True}), {})
    assert not any(e.get("event") == "followup" for e in events)


async def test_the_opening_message_fills_the_matter_and_the_town(form: ValidateBanchengForm, use_real) -> None:
    d = CollectingDispatcher()
    town = [{"entity": "town", "value": "五峰铺镇", "start": 5, "end": 8}]
    opening = tracker("我上个月在五峰铺办残疾证，跑了三趟都冇办成", intent="report_bancheng", entities=town)
    events = await form.run(d, opening, DOMAIN)
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    # Rasa's form then asks the first empty slot: what happened (case_story).
    assert slots == {"case_matter": "残疾人服务一件事", "case_place": "五峰铺镇", "case_invalid": None}
    [intro] = d.messages
    assert intro["text"].startswith("好的，我帮您把没办成的【残疾人服务一件事】登记下来")


async def test_an_opening_message_without_a_matter_fills_nothing(form: ValidateBanchengForm, use_real) -> None:
    d = CollectingDispatcher()
    events = await form.run(d, tracker("有件事办不成，想反映一下", intent="report_bancheng"), DOMAIN)
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots == {} and d.messages == []  # the form asks which matter
    # Later answers are the form's: nothing is looked up for them.
    later = tracker("跑了三趟", intent="report_bancheng", slots={"requested_slot": "case_story"})
    assert await form.extract_case_matter(d, later, DOMAIN) == {}
