"""What a waiting person says to get the assistant back (the one list; gateway and actions use it)."""

from __future__ import annotations

import re

# The first one is the phrase the assistant tells people to use.
BACK_PHRASES: tuple[str, ...] = (
    "回到机器人",
    "回机器人",
    "机器人回来",
    "找机器人",
    "不等了",
    "不要人工",
    "不用人工",
    "取消人工",
    "取消转人工",
    "算了",
)

_NOISE = re.compile(r"[\s，。！？、,.!?~～…“”\"']+")


def asks_for_bot(message: str) -> bool:
    text = _NOISE.sub("", message)
    return any(phrase in text for phrase in BACK_PHRASES)
