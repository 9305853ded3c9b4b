"""Decoding of the official guide JSON's codes and free text.

Only meanings that the data's field guide (INDEX.md of the export) states with
confidence are decoded; everything else is returned as ``None`` so the caller
keeps the raw value and says so in the record's notes.
"""

from __future__ import annotations

import re

from knowledge.models import Necessity

# Placeholder values that carry no information.
USELESS_TEXT = frozenset(
    {
        "",
        "无",
        "无。",
        "暂无",
        "暂无。",
        "暂无填报须知",
        "暂无来源渠道说明",
        "暂无纸质材料规格",
        "/",
        "-",
        "—",
        "待定",
        "null",
        "None",
    }
)

NECESSITY = {"1": Necessity.always, "2": Necessity.conditional, "3": Necessity.commitment_allowed}

# clxs: 1 paper, 2 electronic, 3 paper + electronic; 4 is unclear (raw kept).
FORM = {"1": "纸质", "2": "电子", "3": "纸质和电子"}

# clxz: material nature.
KIND = {"1": "申请表", "2": "证照", "3": "证明文书", "9": "其他"}

# cllyqd: source channel, used only when the text cllyqdsm is absent.
ISSUER = {"10": "申请人自备", "20": "政府部门核发"}

# mtjfs 2/3: the submission is waived through the e-licence / a licence-check interface.
E_LICENCE_EXEMPTION = frozenset({"2", "3"})

_FULLY_ONLINE = ("全程网办", "无需到现场", "线上可直接办理", "线上办理无需跑动")
_CONDITIONAL = ("如需", "如有", "有“", "自取时", "特殊情况", "以线上申请为主")
_ONSITE = ("面签", "现场勘察", "需本人到", "到指定的机构", "同时到", "需要线下提交", "现场提交")


def clean(value: object) -> str | None:
    """Strip a free-text value; ``None`` for missing or placeholder text."""
    if value is None:
        return None
    if not isinstance(value, str):
        value = str(value)
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if text in USELESS_TEXT:
        return None
    return text


def code(value: object) -> str | None:
    """A code value as a string (floats such as ``4.0`` become ``"4"``)."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def number(value: object) -> float | None:
    """A numeric value (int, float or numeric string), else ``None``."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def whole_number(value: object) -> int | None:
    num = number(value)
    if num is None or not num.is_integer() or num < 0:
        return None
    return int(num)


def working_days(raw: str | None) -> int | None:
    """Parse the official time limit when it is a plain number (``"5"``, ``"5.0"``)."""
    if raw is None or not re.fullmatch(r"\d+(\.0+)?", raw.strip()):
        return None
    return int(float(raw))


def time_limit_display(days: int | None) -> str | None:
    return None if days is None else f"承诺{days}个工作日（以官网为准）"


def fully_online(status: str | None) -> bool | None:
    """Read the official 网上办理情况 text: True / False only when it says so plainly."""
    text = clean(status)
    if text is None:
        return None
    if any(p in text for p in _FULLY_ONLINE):
        return True
    if any(p in text for p in _CONDITIONAL):
        return None
    if any(p in text for p in _ONSITE):
        return False
    return None


def necessity(raw: str | None) -> Necessity:
    return NECESSITY.get(raw or "", Necessity.unknown)
