"""``action_answer_detail`` and ``action_go_back``: follow-up questions about one thing.

A follow-up ("要多久", "在哪里办", "电话多少" ...) is answered for the thing named in the
message itself when the matcher is sure about it ("退休要多久"), else for ``current_thing``,
else the assistant asks which matter. Naming another thing switches the topic; the old
one is kept in ``previous_thing`` so that "回到刚才那个" can come back to it.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import knowledge_client, named, render
from actions.find_thing import SLOT_PREVIOUS, SLOT_THING, answer_service_error, latest_entity, switch_events
from actions.latest import latest_intent, latest_text
from actions.places import TOWNS, short_town
from knowledge.models import Theme

logger = logging.getLogger(__name__)

SLOT_TOWN = "town"
INTENT_INFORM_TOWN = "inform_town"
DETAIL_BY_INTENT = {
    "ask_time_limit": "time_limit",
    "ask_fee": "fee",
    "ask_place": "place",
    "ask_hours": "hours",
    "ask_online": "online",
    "ask_department": "department",
    "ask_phone": "phone",
    "ask_conditions": "conditions",
    "ask_process": "process",
    INTENT_INFORM_TOWN: "place",
}

# Words of the follow-up questions themselves (and where the person lives): what is
# left after removing them may name a matter ("退休要好久" -> "退休").
_DETAIL_WORDS = """多久 好久 多长时间 几天 几个工作日 时间 时限 期限 要等 等 拿到 办好 办完 快 慢
    收费 收钱 要钱 花钱 交钱 给钱 钱 费用 几多钱 多少钱 免费 不要钱
    到哪里 去哪里 哪里去 在哪里 在哪 哪里 哪儿 哪块 哪个地方 地方 地点 地址 去哪 到哪 窗口 跑
    几点 上班 下班 开门 关门 周末 星期六 礼拜天 礼拜 中午 上午 下午
    网上 手机上 手机 线上 网办 网上办 APP 湘易办 政务网 不用跑 跑一趟
    部门 单位 哪个 找谁 找 负责 管 牵头
    电话 号码 打 联系 咨询 热线 号
    条件 资格 符合 够不够 能不能 可不可以 哪些人 什么人 哪样的人
    流程 步骤 程序 怎么 哪么 怎样 样 搞 办理 过程 先 后 第一步
    住 住在 屋在 屋里在 我是 我们 他们 在 才 得 好 钟 满足 申请 归 做 收 上 下 一 到 刚才""".split()
_GENERIC = named.generic_pattern([*_DETAIL_WORDS, *named.COMMON_WORDS, *TOWNS, *map(short_town, TOWNS)])


def specific_part(text: str) -> str:
    """The message minus question words, town names and punctuation."""
    return named.specific_part(text, _GENERIC)


def _town(tracker: Tracker) -> str | None:
    return latest_entity(tracker, "town") or tracker.get_slot(SLOT_TOWN) or None


class ActionAnswerDetail(Action):
    """Answer one detail (time limit, fee, place, hours, online, department, phone,
    conditions, process) of the thing named in the message, else of `current_thing`."""

    def name(self) -> str:
        return "action_answer_detail"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent = latest_intent(tracker)
        detail = DETAIL_BY_INTENT.get(intent, "place")
        text = latest_text(tracker)
        current = tracker.get_slot(SLOT_THING)
        town = _town(tracker)
        try:
            theme: Theme | None = await named.named_in_message(text, _GENERIC, named.official_code(tracker))
            if theme is None and current:
                theme = await knowledge_client.get_theme(str(current))
        except Exception:
            logger.exception("knowledge lookup failed for a detail question")
            return answer_service_error(dispatcher)

        if theme is None:
            if intent == INTENT_INFORM_TOWN and town:
                dispatcher.utter_message(text=render.render_town_noted(town))
            else:
                dispatcher.utter_message(text=render.render_ask_which_detail(detail))
            return []
        dispatcher.utter_message(text=render.render_detail(theme, detail, town))
        return switch_events(theme.code, current)


class ActionGoBack(Action):
    """Come back to the thing discussed before the current one ("回到刚才那个")."""

    def name(self) -> str:
        return "action_go_back"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        previous = tracker.get_slot(SLOT_PREVIOUS)
        current = tracker.get_slot(SLOT_THING)
        if not previous or previous == current:
            dispatcher.utter_message(text=render.render_no_previous())
            return []
        try:
            theme = await knowledge_client.get_theme(str(previous))
        except Exception:
            logger.exception("knowledge get failed for %s", previous)
            return answer_service_error(dispatcher)
        if theme is None:
            dispatcher.utter_message(text=render.render_no_previous())
            return [SlotSet(SLOT_PREVIOUS, None)]
        dispatcher.utter_message(text=render.render_go_back(theme))
        return [SlotSet(SLOT_THING, theme.code), SlotSet(SLOT_PREVIOUS, current)]
