"""Long messages go to the knowledge service's decision, whatever short-message intent they got.

The intent classifier learnt from short messages (all but one training example and every blind-set
example have 60 characters or fewer). Real messages run to hundreds of characters: stories,
complaints about companies, suggestions, policy questions, and now and then a one thing buried in
the middle. On those the classifier's guess is often a short-message intent that opens the wrong
door: ``report_bancheng`` opened the 办不成事 form for 33 of 655 realistic messages, ``complain``
recorded a complaint for 9 messages that asked for a one thing, ``out_of_scope`` and
``nlu_fallback`` said "I don't understand" to 100 more (knowledge/eval/real/, docs/resolve.md).

So a message longer than ``min_chars`` whose intent is not one of ``keep_intents`` gets
``route_to`` (``describe_situation``, whose rule runs ``action_find_thing``, which renders
``knowledge.resolve``: one thing, a choice, or an honest "not a one thing" with 12345 and a human,
and the 办不成事 form only as a button). The classifier's own guess stays in the message as
``long_message`` (``{"intent": …, "confidence": …}``) and first in ``intent_ranking`` after the new
intent, so nothing is hidden. Button payloads (``/intent{…}``) never reach this component.

Runs after the FallbackClassifier (``nlu_fallback`` is routed too). Not trainable.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

LONG_MESSAGE_KEY = "long_message"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class LongMessageRouter(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "min_chars": 60,
            "route_to": "describe_situation",
            # Intents a long message may keep: what the knowledge decision cannot see (a wish for a
            # human, a booking) or what already goes to it (describe, materials, checklist).
            "keep_intents": [
                "describe_situation",
                "ask_materials",
                "ask_checklist",
                "ask_human",
                "inform_person_group",
                "book_appointment",
                "my_appointments",
                "cancel_appointment",
            ],
        }

    def __init__(self, config: dict[str, Any]) -> None:
        self.min_chars = int(config["min_chars"])
        self.route_to = str(config["route_to"])
        self.keep = frozenset(config["keep_intents"])
        if self.min_chars < 1:
            raise ValueError(f"LongMessageRouter: min_chars must be 1 or more, not {self.min_chars}")

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LongMessageRouter:
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self.route(message)
        return messages

    def route(self, message: Message) -> None:
        text = str(message.get(TEXT) or "").strip()
        intent = message.get(INTENT) or {}
        name = intent.get(INTENT_NAME_KEY)
        if len(text) <= self.min_chars or not name or name in self.keep or text.startswith("/"):
            return
        confidence = float(intent.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
        message.set(LONG_MESSAGE_KEY, {"intent": name, "confidence": confidence}, add_to_output=True)
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != self.route_to]
        routed = {INTENT_NAME_KEY: self.route_to, PREDICTED_CONFIDENCE_KEY: confidence}
        message.set(INTENT, routed, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [routed, *ranking], add_to_output=True)
