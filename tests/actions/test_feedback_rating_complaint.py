"""Service ratings (好差评) with theme and channel, bad-rating follow-up cases, complaints."""

from __future__ import annotations

import pytest
import redis
from feedback_helpers import tracker, use_redis
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import rating as rating_module
from actions.complaint import ActionRecordComplaint
from actions.rating import ActionFileBadRatingCase, ActionSaveRating, ActionStaffHandedBack, parse_level
from records import case_store as store
from records.case_model import CaseKind


@pytest.mark.parametrize(
    ("entity", "text", "level"),
    [
        ("5", '/rate{"rating":"5"}', 5),
        ("1", '/rate{"rating":"1"}', 1),
        (None, "非常不满意", 1),
        (None, "不满意", 2),
        (None, "一般般", 3),
        (None, "满意", 4),
        (None, "非常满意", 5),
        (None, "我打4分", 4),
        (None, "不是很满意", 2),
        (None, "不怎么满意", 2),
        (None, "不大满意", 2),
        (None, "特别不满意", 1),
        (None, "十分满意", 5),
        (None, "超级满意", 5),
        (None, "百分之百满意", 5),
        (None, "给个中评", 3),
        (None, "挺好，满意", 4),
        ("9", "打分", None),
        (None, "打分", None),
        # forged payloads and out-of-range values are never a level
        ("-1", '/rate{"rating":"-1"}', None),
        ("0", '/rate{"rating":"0"}', None),
        ("6", '/rate{"rating":"6"}', None),
        ("1.5", '/rate{"rating":"1.5"}', None),
        (None, '／rate{"rating":"-1"}', None),
        (None, "给-1分", None),
        (None, "打1.5分", None),
        ("五", "五星好评", 5),
    ],
)
def test_parse_level(entity: str | None, text: str, level: int | None) -> None:
    assert parse_level(entity, text) == level


def rate(level: str, **kw: object):
    return tracker(f'/rate{{"rating":"{level}"}}', intent="rate", entities=[{"entity": "rating", "value": level}],
                   **kw)  # type: ignore[arg-type]


async def test_good_rating_is_stored_with_theme_and_channel(
    redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_redis(monkeypatch, redis_url)
    d = CollectingDispatcher()
    events = await ActionSaveRating().run(d, rate("5", slots={"current_thing": "43PCN0013"}, channel="telegram"), {})
    [rating] = store.list_ratings(redis_client)
    assert (rating.level, rating.label, rating.theme, rating.channel) == (5, "非常满意", "43PCN0013", "telegram")
    assert rating.sender == "feedback-user" and rating.created_at > 0 and rating.served_by == "assistant"
    assert SlotSet("rating_band", "ok") in events
    assert "非常满意" in d.messages[0]["text"]
    assert store.case_ids(redis_client) == []  # a good rating files no case


async def test_rating_after_a_staff_hand_back_is_marked_staff_and_resets_the_slot(
    redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_redis(monkeypatch, redis_url)
    events = await ActionSaveRating().run(
        CollectingDispatcher(), rate("4", slots={"current_thing": "43PCN0009", "served_by": "staff"}), {}
    )
    [rating] = store.list_ratings(redis_client)
    assert (rating.level, rating.served_by, rating.theme) == (4, "staff", "43PCN0009")
    assert SlotSet("served_by", None) in events and SlotSet("rating_band", "ok") in events


def test_old_ratings_without_served_by_load_as_the_assistant() -> None:
    from records.case_model import Rating

    old = '{"schema_version": 1, "id": "PJ000001", "created_at": 1.0, "level": 5, "label": "非常满意", "sender": "u"}'
    assert Rating.model_validate_json(old).served_by == "assistant"


async def test_staff_hand_back_thanks_and_offers_the_five_rating_buttons(monkeypatch: pytest.MonkeyPatch) -> None:
    class Theme:
        title = "新生儿出生“一件事”"

    async def get_theme(code: str) -> Theme | None:
        return Theme() if code == "43PCN0009" else None

    monkeypatch.setattr(rating_module.knowledge_client, "get_theme", get_theme)
    d = CollectingDispatcher()
    slots = {"served_by": "staff", "current_thing": "43PCN0009"}
    assert await ActionStaffHandedBack().run(d, tracker("/staff_handed_back", intent="staff_handed_back", slots=slots), {}) == []
    [message] = d.messages
    assert "小助手回来了" in message["text"] and "【新生儿出生“一件事”】" in message["text"] and "打个分" in message["text"]
    assert [b["payload"] for b in message["buttons"]] == [f'/rate{{"rating":"{n}"}}' for n in (5, 4, 3, 2, 1)]

    d = CollectingDispatcher()  # not set up by the gateway: no rating prompt
    await ActionStaffHandedBack().run(d, tracker("staff_handed_back", intent="staff_handed_back"), {})
    assert d.messages[0]["response"] == "utter_ask_what_matter" and not d.messages[0].get("buttons")


async def test_bad_rating_asks_why_and_files_a_follow_up_case(
    redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_redis(monkeypatch, redis_url)
    events = await ActionSaveRating().run(CollectingDispatcher(), rate("2", slots={"current_thing": "43PCN0009"}), {})
    assert SlotSet("rating_band", "low") in events
    rating_id = next(e["value"] for e in events if e["name"] == "rating_id")

    reason = "你讲的材料跟窗口要的不一样，害我白跑一趟"
    d = CollectingDispatcher()
    slots = {"rating_id": rating_id, "rating_reason": reason, "current_thing": "43PCN0009"}
    await ActionFileBadRatingCase().run(d, tracker(reason, intent="complain", slots=slots), {})
    [case] = store.list_cases(redis_client, CaseKind.bad_rating)
    assert (case.text, case.rating, case.rating_id, case.current_thing) == (reason, 2, rating_id, "43PCN0009")
    rating = store.get_rating(redis_client, rating_id)
    assert rating is not None and rating.case_id == case.id
    assert case.id in d.messages[0]["text"] and "0739-12345" in d.messages[0]["text"]


async def test_bad_rating_without_a_reason_files_nothing(
    redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_redis(monkeypatch, redis_url)
    slots = {"rating_id": "PJ000001", "rating_reason": "不说了"}
    await ActionFileBadRatingCase().run(CollectingDispatcher(), tracker("不说了", intent="stop_form", slots=slots), {})
    assert store.case_ids(redis_client) == []


async def test_asking_for_staff_instead_of_a_reason_goes_to_the_handoff(
    redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_redis(monkeypatch, redis_url)
    slots = {"rating_id": "PJ000001", "rating_reason": "转人工"}
    d = CollectingDispatcher()
    events = await ActionFileBadRatingCase().run(d, tracker("转人工", intent="ask_human", slots=slots), {})
    assert store.case_ids(redis_client) == []  # "转人工" is not filed as the reason
    assert FollowupAction("utter_ask_handoff_consent") in events
    assert SlotSet("rating_reason", None) in events and "工作人员" in d.messages[0]["text"]


async def test_unclear_rating_asks_again_with_five_buttons(
    redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_redis(monkeypatch, redis_url)
    d = CollectingDispatcher()
    events = await ActionSaveRating().run(d, tracker("打分", intent="rate"), {})
    assert events == [SlotSet("rating_band", "unknown")]
    assert [b["payload"] for b in d.messages[0]["buttons"]] == [f'/rate{{"rating":"{n}"}}' for n in (5, 4, 3, 2, 1)]
    assert store.list_ratings(redis_client) == []


async def test_complaint_is_recorded_and_points_to_12345(
    redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_redis(monkeypatch, redis_url)
    words = "说好五个工作日，半个月了还冇办好，我要投诉"
    d = CollectingDispatcher()
    events = await ActionRecordComplaint().run(
        d, tracker(words, intent="complain", slots={"current_thing": "43PCN0009"}, channel="web"), {}
    )
    [case] = store.list_cases(redis_client, CaseKind.complaint)
    assert case.id.startswith("TS")
    assert (case.text, case.current_thing, case.channel) == (words, "43PCN0009", "web")
    text = d.messages[0]["text"]
    assert "0739-12345" in text and case.id in text
    assert "没办法替您处理" in text  # does not pretend to resolve it
    assert SlotSet("case_id", case.id) in events


async def test_complaint_with_redis_down_still_points_to_12345(monkeypatch: pytest.MonkeyPatch) -> None:
    use_redis(monkeypatch, "redis://127.0.0.1:1/0")
    d = CollectingDispatcher()
    assert await ActionRecordComplaint().run(d, tracker("窗口的人态度差", intent="complain"), {}) == []
    assert "0739-12345" in d.messages[0]["text"]
