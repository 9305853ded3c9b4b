"""Which one thing(s) does a checklist request name? Two at once ("上户口，还要领育儿补贴")?

The rule for "two things at once" (``two_things``):

0. The message is cut at connectors (，、和 跟 还要 还有 另外 以及 同时 加上 …) into parts with at
   least 2 specific characters (checklist words like 列个清单 removed). Fewer than two such parts
   -> never two things (so an ambiguous single matter, 伢子读书的事 0.62 / 0.29, is not merged).
1. Each part is searched on its own (``KnowledgeService.search``); a part whose best hit scores
   >= ``PART_STRONG`` (0.35; 上户口 0.37, 小孩上学 0.40, 领育儿补贴 0.88) names that thing. Two parts
   naming different things -> both.
2. Otherwise the whole message is searched: if the best two hits differ and both score
   >= ``PAIR_STRONG`` (0.3) -> both. Scores are calibrated and share the probability mass, so a
   message about two matters splits it (上户口+育儿补贴: 0.82 / 0.42) while a message about one
   matter leaves almost nothing for the second (0.93 / 0.003).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import Any

from actions import knowledge_client, named

PART_STRONG = 0.35
PAIR_STRONG = 0.3
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


async def search(query: str, k: int = 3) -> list[Any]:
    """``KnowledgeService.search`` off the event loop ([] when the service has no search)."""

    def _run() -> list[Any]:
        service = knowledge_client.service_factory()
        finder = getattr(service, "search", None)
        return list(finder(query, k=k)) if finder is not None else []

    return await asyncio.to_thread(_run)


def pair_from_hits(hits: Sequence[Any]) -> list[str] | None:
    """Rule 2: the best two hits of the whole message, when they differ and both are strong."""
    if len(hits) >= 2 and hits[0].code != hits[1].code and hits[1].score >= PAIR_STRONG:
        return [hits[0].code, hits[1].code]
    return None


async def two_things(text: str) -> list[str] | None:
    """The two theme codes the message names (see the module docstring), else None."""
    if text.startswith("/"):
        return None
    parts = split_parts(text)
    if len(parts) < 2:
        return None
    found: list[str] = []
    for part in parts:  # one at a time: the service is shared
        hits = await search(part, k=1)
        if hits and hits[0].score >= PART_STRONG and hits[0].code not in found:
            found.append(hits[0].code)
        if len(found) == 2:
            return found
    return pair_from_hits(await search(text, k=3))


# Words that add a second matter (上户口，还要领育儿补贴). Without one, a long story about one
# matter too often has two parts that each look like a matter: on the search eval sets (460
# single-matter queries) two_things found a pair in 33; with one of these words required, in 2.
ALSO_PATTERN = re.compile(r"还要|还想|顺便|另外|以及|同时|加上|再就是|又要|还有")


async def also_named(text: str, first: str) -> str | None:
    """The second matter of a message that adds one with an "also" word (ALSO_PATTERN) to
    ``first`` (the matter it was matched to), else None."""
    if not ALSO_PATTERN.search(text):
        return None
    pair = await two_things(text)
    if not pair or first not in pair:
        return None
    return next(code for code in pair if code != first)


def asks_for_both(text: str) -> bool:
    """ "两件事一起的清单" / "两个一起": both matters discussed so far."""
    return bool(BOTH_PATTERN.search(text))
