"""Answer text: turn a Theme (or a list of candidates) into short, plain Chinese.

The wording lives in ``actions/templates/*.j2``; this module only prepares the data
(ordering, grouping and shortening) and renders it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from actions.config import SETTINGS, ActionSettings
from knowledge.models import Necessity, Provenance, Theme

TEMPLATE_DIR = Path(__file__).parent / "templates"

_env = Environment(
    loader=FileSystemLoader(str(TEMPLATE_DIR)),
    autoescape=False,  # plain text for chat, not HTML
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=StrictUndefined,
    keep_trailing_newline=False,
)

_SENTENCE_END = re.compile(r"[。；;！!？?\n]")
_SPACES = re.compile(r"\s+")


def shorten(text: str | None, limit: int) -> str:
    """First sentence of ``text``, cut to ``limit`` characters with an ellipsis."""
    if not text:
        return ""
    clean = _SPACES.sub(" ", text).strip()
    first = _SENTENCE_END.split(clean, maxsplit=1)[0].strip(" ，,：:")
    if not first:
        first = clean
    if len(first) > limit:
        return first[: limit - 1].rstrip(" ，,、") + "…"
    return first


@dataclass(frozen=True)
class MaterialLine:
    name: str
    case: str = ""  # when it is needed (only for the non-always group)


@dataclass(frozen=True)
class MaterialGroups:
    always: list[MaterialLine]
    conditional: list[MaterialLine]


def group_materials(theme: Theme, settings: ActionSettings = SETTINGS) -> MaterialGroups:
    """Always-needed materials first, then the others with the case they apply to.

    Materials repeated across sub-matters are listed once; if any copy is always
    needed, the material counts as always needed.
    """
    always: dict[str, MaterialLine] = {}
    other: dict[str, MaterialLine] = {}
    for m in theme.materials:
        name = (
            shorten(m.name, settings.max_material_chars)
            if len(m.name) > settings.max_material_chars
            else m.name.strip()
        )
        if m.necessity == Necessity.always:
            always.setdefault(name, MaterialLine(name=name))
            other.pop(name, None)
        elif name not in always and name not in other:
            case = shorten(m.condition, settings.max_condition_chars) or "看具体情况，以窗口告知为准"
            other[name] = MaterialLine(name=name, case=case)
    return MaterialGroups(always=list(always.values()), conditional=list(other.values()))


def region_caveat(theme: Theme) -> str:
    """The warning shown when the guide is not Shaoyang County's own ('' when it is)."""
    if theme.provenance == Provenance.names_only:
        return "这件事目前没有邵阳县的办事指南，下面的内容请以窗口告知为准。"
    region = theme.region
    if region is not None and not region.is_county_own:
        return region.caveat or f"以下是{region.name}的办事指南，在邵阳县办理请先打电话确认。"
    if theme.provenance == Provenance.hand_written:
        return "以下是根据公开资料整理的，具体以窗口告知为准。"
    return ""


# Official online-status texts that mean "cannot be done online".
_NO_ONLINE = {"无", "暂无", "否", "不支持", "不可网办"}


def online_text(theme: Theme, settings: ActionSettings = SETTINGS) -> str:
    """Where to do it online, or '' when the guide names no online channel."""
    online = theme.online
    status = (online.status or "").strip()
    if status in _NO_ONLINE:
        return ""
    channels = "、".join(online.channels)
    if not status and online.fully_online:
        status = "可以全程网上办"
    status = shorten(status, settings.max_condition_chars)
    if status and channels:
        return f"{status}（{channels}）"
    return status or channels


def fee_text(theme: Theme) -> str:
    """The fee line's value (the official display text may already start with '收费：')."""
    if theme.fee is None or not theme.fee.display.strip():
        return "以窗口告知为准"
    display = theme.fee.display.strip()
    for prefix in ("收费：", "收费:"):
        if display.startswith(prefix) and len(display) > len(prefix):
            return display[len(prefix) :].strip()
    return display


def _render(name: str, **context: object) -> str:
    text = _env.get_template(name).render(**context)
    # No blank lines: Rasa's REST channel splits a text at blank lines into separate
    # messages, and one answer should stay one message.
    return re.sub(r"\n\s*\n+", "\n", text).strip()


def _theme_context(theme: Theme, settings: ActionSettings) -> dict[str, object]:
    return {
        "theme": theme,
        "caveat": region_caveat(theme),
        "groups": group_materials(theme, settings),
        "has_guide": theme.provenance != Provenance.names_only,
        "time_limit": theme.time_limit.display or "以窗口告知为准",
        "fee": fee_text(theme),
        "lead": theme.department.lead or "",
        "consult": theme.phones.consult or "",
        "online": online_text(theme, settings),
        "settings": settings,
    }


def render_thing(theme: Theme, settings: ActionSettings = SETTINGS) -> str:
    """Full answer for a matched one thing."""
    return _render("thing.j2", **_theme_context(theme, settings))


def render_materials(theme: Theme, settings: ActionSettings = SETTINGS) -> str:
    """Only the materials of a one thing."""
    return _render("materials_answer.j2", **_theme_context(theme, settings))


def render_choose(titles: Sequence[str]) -> str:
    """Short question when several one things fit."""
    return _render("choose.j2", titles=list(titles))


def render_guess(titles: Sequence[str]) -> str:
    """Short question when the best match is likely but not sure."""
    return _render("guess.j2", titles=list(titles))


def render_second_thing(title: str) -> str:
    """The note after a guide when the message named a second matter too."""
    return f"您还说到了【{title}】，点下面的按钮看它要带么子。两件要一起列材料清单，就说“两件一起列清单”。"


def render_not_a_thing(
    kind: str, department: str | None = None, settings: ActionSettings = SETTINGS, case_id: str | None = None
) -> str:
    """Not a one thing (knowledge.resolve): say so plainly, point to 12345 (12315 for consumer
    disputes, the department when known) and offer a human; chit-chat gets a friendly word."""
    return _render("not_a_thing.j2", kind=kind, dept=department, hotline=settings.hotline, case_id=case_id)


def render_which_candidate() -> str:
    """"是的" to several candidates: which one?"""
    return "好的，是哪一件呢？点一下就行，也可以直接说事项名称。"


def render_no_match(settings: ActionSettings = SETTINGS) -> str:
    """Not sure which one thing: offer staff and the hotline."""
    return _render("no_match.j2", settings=settings)


def render_ask_which(settings: ActionSettings = SETTINGS) -> str:
    """Materials asked for but no one thing known yet."""
    return _render("ask_which.j2", settings=settings)


def render_service_error(settings: ActionSettings = SETTINGS) -> str:
    return _render("service_error.j2", settings=settings)


# --- Follow-up details (action_answer_detail) -------------------------------------------

# What each detail is called in the "which matter?" question.
DETAIL_WORDS = {
    "time_limit": "要多久",
    "fee": "收不收费",
    "place": "在哪里办",
    "hours": "几点上班",
    "online": "能不能网上办",
    "department": "找哪个部门",
    "phone": "电话多少",
    "conditions": "要什么条件",
    "process": "流程是怎样的",
}
_STEP_ARROWS = re.compile(r"\s*(?:-+>|→|－+>|—+>)\s*")
_STEP_DASHES = re.compile(r"\s*(?<!\d)[-－—]+(?!\d)\s*")  # "受理-审核-办结", not "9:00-12:00"
MAX_STEPS = 10
MAX_CONDITIONS = 4


def process_steps(theme: Theme, settings: ActionSettings = SETTINGS) -> list[str]:
    """The official process as short numbered steps ([] when not published)."""
    text = (theme.process or "").strip()
    if not text:
        return []
    parts = _STEP_ARROWS.split(text)
    if len(parts) == 1:
        parts = _STEP_DASHES.split(text)
    steps = [s for s in (p.strip(" ，,。") for p in parts) if s]
    if len(steps) <= 1:
        return [shorten(text, 3 * settings.max_condition_chars)]
    return [shorten(s, settings.max_condition_chars) for s in steps[:MAX_STEPS]]


def condition_lines(theme: Theme, settings: ActionSettings = SETTINGS) -> list[str]:
    lines = [shorten(c.text, settings.max_condition_chars) for c in theme.conditions]
    return list(dict.fromkeys(x for x in lines if x))[:MAX_CONDITIONS]


def render_detail(theme: Theme, detail: str, town: str | None = None, settings: ActionSettings = SETTINGS) -> str:
    """One detail (``DETAIL_WORDS`` keys) of a one thing, with its phone and online channel."""
    from actions.places import place_lines, resolve_place  # local: places imports config only

    if detail not in DETAIL_WORDS:
        raise ValueError(f"unknown detail {detail!r}")
    context = _theme_context(theme, settings)
    context.update(
        detail=detail,
        place=resolve_place(theme, town, settings),
        hours=[(p.name, p.hours) for p in place_lines(theme) if p.hours],
        online_url=theme.online.urls[0] if context["online"] and theme.online.urls else "",
        cooperating="、".join(theme.department.cooperating),
        phone_note=theme.phones.note or "",
        complaint=theme.phones.complaint or "",
        conditions=condition_lines(theme, settings),
        steps=process_steps(theme, settings),
    )
    return _render("detail.j2", **context)


def render_ask_which_detail(detail: str, settings: ActionSettings = SETTINGS) -> str:
    """A detail was asked but no one thing is known yet."""
    return _render("ask_which_detail.j2", detail=detail, what=DETAIL_WORDS.get(detail, "怎么办"), settings=settings)


def render_town_noted(town: str) -> str:
    return _render("town_noted.j2", town=town)


def render_go_back(theme: Theme, settings: ActionSettings = SETTINGS) -> str:
    return _render("go_back.j2", **_theme_context(theme, settings))


def render_no_previous() -> str:
    return _render("no_previous.j2")
