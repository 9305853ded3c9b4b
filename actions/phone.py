"""``action_got_phone``: acknowledge a phone number only when there really is one.

``inform_phone`` is predicted for messages full of digits; masked (138****1234), placeholder
(13800000000) or ID-like digit runs are not a number to call back (``actions.handoff.plausible_phone``,
issue #13). A real number: the usual "记下您的电话了". A masked one: ask for the whole number. No
number at all: the message is searched like any other (``action_find_thing``).
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.find_thing import latest_entity
from actions.handoff import PHONE_ENTITY, PHONE_RE, plausible_phone
from actions.latest import latest_text

GOT_PHONE = "utter_got_phone"
FIND_THING = "action_find_thing"
# A mobile number with some digits masked: 138****1234.
MASKED_RE = re.compile(r"1[3-9][\d*＊]{9}")


class ActionGotPhone(Action):
    def name(self) -> str:
        return "action_got_phone"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = latest_text(tracker)
        found = latest_entity(tracker, PHONE_ENTITY) or next((m.group(1) for m in PHONE_RE.finditer(text)), None)
        if found and plausible_phone(found, text):
            dispatcher.utter_message(response=GOT_PHONE)
            return []
        if found or (("*" in text or "＊" in text) and MASKED_RE.search(text)):
            dispatcher.utter_message(text="这个号码好像不完整（有星号或全是0）。要留电话的话，请发完整的手机号。")
            return []
        return [FollowupAction(FIND_THING)]

