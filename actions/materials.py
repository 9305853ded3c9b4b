"""``action_list_materials``: the materials of the one thing being discussed."""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import knowledge_client, render
from actions.config import SETTINGS
from actions.find_thing import SLOT_THING, answer_service_error
from knowledge.models import Theme

logger = logging.getLogger(__name__)


# Words of a generic "what do I bring" question. What is left after removing them is
# the part that may name a matter ("办退休要带么子材料" -> "办退休").
_GENERIC_WORDS = sorted(
    """材料 资料 证件 证明 东西 本本 表格 表 清单 单子 照片 相片 原件 复印件 手续
    需要 准备 提交 提供 要带 要交 要拿 要填 带 拿 交 填 齐 什么 么子 哪些 哪样 啥 好多 几张 几样 多少
    那 那么 咯 呢 吗 啊 呀 哦 嘛 哒 了 的 请问 一下 再 还 都 也 要 有 些 我 你 说 讲 列 发 去 办的时候
    除了 别的 其他 其它 一遍 还是 是不是 是 不 可以 能 行 怎么办 哪么办 哪么搞 怎么搞 冇得 没有
    身份证 户口本 户口簿 银行卡 结婚证 一寸 两寸 2寸 1寸""".split(),
    key=len,
    reverse=True,
)
_GENERIC = re.compile("|".join(map(re.escape, _GENERIC_WORDS)))
_NOT_WORD = re.compile(r"[\W_]+")
MIN_SPECIFIC_CHARS = 2


def specific_part(text: str) -> str:
    """The message minus generic question words and punctuation."""
    return _NOT_WORD.sub("", _GENERIC.sub("", text))


async def _named_in_message(text: str) -> Theme | None:
    """The one thing the message itself names with certainty ("办退休要带么子"), if any."""
    specific = specific_part(text)
    if text.startswith("/") or len(specific) < MIN_SPECIFIC_CHARS:
        return None
    # The whole message first; then only its specific part, since the generic question
    # words ("要带么子材料") dilute the match ("办退休要带么子材料" -> "办退休").
    for query in dict.fromkeys((text, specific)):
        answer = await knowledge_client.match(query, k=SETTINGS.max_candidates)
        hits = list(answer.hits)
        if knowledge_client.verdict_name(answer) == "sure" and hits:
            return await knowledge_client.get_theme(hits[0].code)
    return None


class ActionListMaterials(Action):
    """List materials for the thing named in the message, else for `current_thing`."""

    def name(self) -> str:
        return "action_list_materials"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = (tracker.latest_message or {}).get("text") or ""
        current = tracker.get_slot(SLOT_THING)
        try:
            theme = await _named_in_message(text)
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
        return [SlotSet(SLOT_THING, theme.code)] if theme.code != current else []
