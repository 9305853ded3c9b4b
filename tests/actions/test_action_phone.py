"""action_got_phone: "记下您的电话了" only for a real number (issue #13: masked digits are no phone)."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.phone import ActionGotPhone


@pytest.mark.parametrize(
    ("text", "entity", "said"),
    [
        ("我的电话是13907391234", "13907391234", "response"),
        ("打0739-5123456找我", None, "response"),
        ("我电话138****1234", None, "masked"),
        ("手机13800000000", "13800000000", "masked"),  # a placeholder, not a number to call back
        ("身份证43052219850312451X", None, "search"),  # an ID-like digit run is no phone
        ("2019年11月12日交的房，**栋**号", None, "search"),
    ],
)
async def test_only_a_real_number_is_acknowledged(make_tracker, text: str, entity: str | None, said: str) -> None:
    entities = [{"entity": "phone", "value": entity}] if entity else []
    dispatcher = CollectingDispatcher()
    events = await ActionGotPhone().run(dispatcher, make_tracker(text, intent="inform_phone", entities=entities), {})
    if said == "response":
        assert events == [] and dispatcher.messages[0]["response"] == "utter_got_phone"
    elif said == "masked":
        assert events == [] and "不完整" in dispatcher.messages[0]["text"]
    else:
        assert dispatcher.messages == [] and events == [{"event": "followup", "timestamp": None, "name": "action_find_thing"}]
