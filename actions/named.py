"""Which one thing does a follow-up question name itself, if any?

"办退休要带么子材料" names 退休; "要带么子材料" names nothing. Generic question words are
stripped first; a message with too little left is never sent to the matcher, so a generic
question cannot switch the topic by accident.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rasa_sdk import Tracker

from actions import knowledge_client
from knowledge.models import Theme

# Words that occur in any follow-up question, whatever it asks about.
COMMON_WORDS = """那 那么 咯 呢 吗 啊 呀 哦 嘛 哒 了 的 请问 一下 再 还 都 也 要 有 些 我 你 说 讲 列 发 去
    除了 别的 其他 其它 一遍 还是 是不是 是 不 可以 能 行 怎么办 哪么办 哪么搞 怎么搞 冇得 没有 什么 么子 哪些
    哪样 啥 好多 几多 多少 这个 那个 这件事 这个事 问问 想问 知道 告诉""".split()

_NOT_WORD = re.compile(r"[\W_]+")
MIN_SPECIFIC_CHARS = 2


def generic_pattern(words: Iterable[str]) -> re.Pattern[str]:
    """A regex matching any of ``words``, longest first."""
    ordered = sorted(set(words), key=len, reverse=True)
    return re.compile("|".join(map(re.escape, ordered)))


def specific_part(text: str, generic: re.Pattern[str]) -> str:
    """The message minus generic question words and punctuation."""
    return _NOT_WORD.sub("", generic.sub("", text))


def official_code(tracker: Tracker) -> str | None:
    """The theme code of the one thing the latest message names officially (the ``thing`` entity:
    新生儿出生一件事, 开办餐饮店), when it names exactly one; two names are left to the search."""
    codes = set(tracker.get_latest_entity_values("thing"))
    return str(codes.pop()) if len(codes) == 1 else None


async def named_in_message(text: str, generic: re.Pattern[str], official: str | None = None) -> Theme | None:
    """The one thing the message itself names with certainty, if any. ``official`` (see
    ``official_code``) is taken first when it is a known theme code."""
    if official:
        theme = await knowledge_client.get_theme(official)
        if theme is not None:
            return theme
    specific = specific_part(text, generic)
    if text.startswith("/") or len(specific) < MIN_SPECIFIC_CHARS:
        return None
    # The whole message first; then only its specific part, since the generic question
    # words ("要带么子材料") dilute the match ("办退休要带么子材料" -> "办退休").
    for query in dict.fromkeys((text, specific)):
        res = await knowledge_client.resolve(query)
        themes = list(res.themes)
        if knowledge_client.verdict_name(res) in ("sure", "two_things") and themes:
            return await knowledge_client.get_theme(themes[0].code)
    return None
