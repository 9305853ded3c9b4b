"""``action_list_materials``: the materials of the one thing being discussed."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import knowledge_client, named, render
from actions.find_thing import SLOT_THING, answer_service_error, switch_events
from actions.latest import latest_text
from knowledge.models import Theme

logger = logging.getLogger(__name__)


# Words of a generic "what do I bring" question. What is left after removing them is
# the part that may name a matter ("办退休要带么子材料" -> "办退休").
_MATERIAL_WORDS = """材料 资料 证件 证明 东西 本本 表格 表 清单 单子 照片 相片 原件 复印件 手续
    需要 准备 提交 提供 要带 要交 要拿 要填 带 拿 交 填 齐 几张 几样 办的时候
    身份证 户口本 户口簿 银行卡 结婚证 一寸 两寸 2寸 1寸""".split()
_GENERIC = named.generic_pattern([*_MATERIAL_WORDS, *named.COMMON_WORDS])


def specific_part(text: str) -> str:
    """The message minus generic question words and punctuation."""
    return named.specific_part(text, _GENERIC)


async def _named_in_message(text: str, official: str | None = None) -> Theme | None:
    """The one thing the message itself names with certainty ("办退休要带么子"), if any."""
    return await named.named_in_message(text, _GENERIC, official)


class ActionListMaterials(Action):
    """List materials for the thing named in the message, else for `current_thing`."""

    def name(self) -> str:
        return "action_list_materials"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = latest_text(tracker)
        current = tracker.get_slot(SLOT_THING)
        try:
            theme = await _named_in_message(text, named.official_code(tracker))
            if theme is None and current:
                theme = await knowledge_client.get_theme(str(current))
        except Exception:
            logger.exception("knowledge lookup failed for materials")
            return answer_service_error(dispatcher)

        if theme is None:
            dispatcher.utter_message(text=render.render_ask_which())
            return []
        dispatcher.utter_message(text=render.render_materials(theme))
        # The thing named in this message becomes the one being discussed.
        return switch_events(theme.code, current)
