"""Which one thing(s) does a checklist request name? Two at once ("上户口，还要领育儿补贴")?

The message is cut at connectors (，、和 跟 还要 还有 另外 以及 同时 加上 …) into parts with at
least 2 specific characters (checklist words like 列个清单 removed). Fewer than two such parts
-> never two things (so an ambiguous single matter, 伢子读书的事, is not merged). Whether the parts
name two matters is decided in ``knowledge.resolve.pair_of`` (its thresholds live there, with the
rest of the decision: issue #13).
"""

from __future__ import annotations

import re

from actions import knowledge_client, named

_CONNECTORS = re.compile(
    r"[，,、；;。.!！?？\s]+|还要|还有|还想|另外|以及|同时|加上|顺便|再就是|和|跟|与|又要"
)
# "两个一起" with the previous thing: the message asks for both matters discussed.
BOTH_PATTERN = re.compile(r"两[个件样桩](事|一起|都|合|的)?|一起列|合并|合起来|一起的清单|都列")

# Words of a checklist request that name no matter.
CHECKLIST_WORDS = """清单 单子 列个 列一下 列出来 列 一张 张 具体 按 情况 我的 照 个人 材料 资料 证件 东西
    要带 带 准备 拿 交 需要 帮我 给我 给 一起 两个 两件 合并 事 办""".split()
GENERIC = named.generic_pattern([*CHECKLIST_WORDS, *named.COMMON_WORDS])


def split_parts(text: str) -> list[str]:
    """The message cut at connectors, parts with at least 2 specific characters."""
    parts = (p for p in _CONNECTORS.split(text) if p)
    return [p for p in parts if len(named.specific_part(p, GENERIC)) >= named.MIN_SPECIFIC_CHARS]


async def two_things(text: str) -> list[str] | None:
    """The two theme codes the message names (see the module docstring), else None."""
    if text.startswith("/"):
        return None
    parts = split_parts(text)
    if len(parts) < 2:
        return None
    return await knowledge_client.two_things(parts, text)


def asks_for_both(text: str) -> bool:
    """ "两件事一起的清单" / "两个一起": both matters discussed so far."""
    return bool(BOTH_PATTERN.search(text))
