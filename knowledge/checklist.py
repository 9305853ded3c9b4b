"""The personal checklist: which materials of a theme apply to this person.

``build_checklist(theme, situation)`` sorts a theme's materials into four groups:

- ``bring``: always needed, plus conditional ones whose case applies (and extra documents an
  always-needed material's official text asks for in this person's case);
- ``not_needed``: conditional ones whose case clearly does not apply, with the reason;
- ``ask``: conditional ones whose case depends on a fact we do not know yet (the dialogue asks
  only the questions of ``questions_for``);
- ``check``: conditional ones whose official text no rule understands (shown as published).

The rules live in ``knowledge.checklist_rules``. ``merge_checklists`` merges several themes'
lists (duplicates removed, ``saved`` counted); ``render_checklist`` renders plain Chinese text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from knowledge.checklist_rules import (
    EXTRA_RULES,
    FACTS,
    RULES,
    FactValue,
    Rule,
    Test,
    find_extra,
    find_rule,
    no_case,
    value_key,
)
from knowledge.models import Material, Necessity, Provenance, Theme

E_LICENCE_NOTE = "系统可核验电子证照，可免提交（以窗口为准）"
COMMITMENT_NOTE = "可先承诺、之后补交（以窗口为准）"
NO_CASE_REASON = "官方没有写明什么情况下需要，请向窗口确认"
UNPARSED_REASON = "要看具体情况，请对照官方说明或向窗口确认"
OUTSIDE_CASES_REASON = "官方说明没有写到您这种情况，请向窗口确认"
NO_GUIDE_NOTICE = "本县暂无这件事的办事指南，材料清单请向县政务服务中心或 12345 咨询。"
NO_MATERIALS_NOTICE = "官方数据没有列出这件事的材料清单，请向窗口咨询。"
UNKNOWN_NECESSITY_REASON = "官方数据没有说明是否必需，请向窗口确认"

Status = Literal["bring", "not_needed", "ask", "check"]
GROUPS: tuple[Status, ...] = ("bring", "ask", "check", "not_needed")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Situation(_Model):
    """What the person told us. Every fact is optional: None means "not known yet"."""

    applicant: (
        Literal[
            "self",
            "spouse",
            "father",
            "mother",
            "adoptive_parent",
            "guardian",
            "appointed_guardian",
            "institution",
            "agent",
        ]
        | None
    ) = None
    parents_same_ethnicity: bool | None = None
    parents_divorced: bool | None = None
    marital_status: Literal["unmarried", "married", "divorced", "widowed"] | None = None
    county_hukou: bool | None = None
    is_minor: bool | None = None
    disability_kind: (
        Literal["vision", "hearing", "speech", "physical", "intellectual", "mental", "multiple"] | None
    ) = None
    disability_service: (
        Literal["new", "renew", "replace", "lost", "transfer", "reassess", "cancel"] | None
    ) = None
    has_disability: bool | None = None
    has_student: bool | None = None
    bank_account_new: bool | None = None
    has_co_borrower: bool | None = None
    has_co_owner: bool | None = None
    has_guarantor: bool | None = None
    property_type: Literal["new_completed", "new_off_plan", "second_hand"] | None = None
    is_new_talent: bool | None = None
    has_minor_children: bool | None = None
    joins_spouse: bool | None = None
    archive_in_public_unit: bool | None = None
    housing_category: (
        Literal["local_family", "migrant_worker", "new_employee", "sanitation_worker"] | None
    ) = None
    is_dibao: bool | None = None
    house_demolished: bool | None = None
    owns_vehicle: bool | None = None
    has_business: bool | None = None
    has_self_built_house: bool | None = None
    rental_mode: Literal["in_kind", "subsidy"] | None = None
    withdraw_reason: (
        Literal[
            "buy_completed", "down_payment", "affordable_housing", "rent_public", "rent_market", "repay_loan"
        ]
        | None
    ) = None
    early_retired: bool | None = None
    rebuild_same_site: bool | None = None
    has_mortgage: bool | None = None
    has_health_report: bool | None = None
    first_application: bool | None = None


class Option(_Model):
    title: str  # button title (Chinese)
    value: str  # button value: "true"/"false" for yes/no facts, else the fact's value key


class Question(_Model):
    fact: str  # a Situation field
    prompt: str  # short plain Chinese
    options: list[Option]


class Item(_Model):
    name: str
    status: Status
    reason: str | None = None  # why it is (not) needed, or why it must be checked
    note: str | None = None  # e-licence / commitment notes
    condition: str | None = None  # the official 填报须知 text
    facts: list[str] = Field(default_factory=list)  # `ask`: the facts still to ask about
    rule: str | None = None  # id of the rule that understood the condition
    e_licence: bool = False  # the system can check the e-licence instead
    extra: bool = False  # asked for by another material's official text
    themes: list[str] = Field(default_factory=list)  # codes of the themes it serves


class Checklist(_Model):
    code: str
    title: str
    provenance: Provenance
    notices: list[str] = Field(default_factory=list)  # caveats shown before the list
    bring: list[Item] = Field(default_factory=list)
    not_needed: list[Item] = Field(default_factory=list)
    ask: list[Item] = Field(default_factory=list)
    check: list[Item] = Field(default_factory=list)
    questions: list[Question] = Field(default_factory=list)


class MergedChecklist(_Model):
    codes: list[str]
    titles: list[str]
    notices: list[str] = Field(default_factory=list)
    bring: list[Item] = Field(default_factory=list)
    not_needed: list[Item] = Field(default_factory=list)
    ask: list[Item] = Field(default_factory=list)
    check: list[Item] = Field(default_factory=list)
    questions: list[Question] = Field(default_factory=list)
    saved: int = 0  # how many duplicate items the merge removed


# --------------------------------------------------------------------------- building


def _facts(situation: Situation | Mapping[str, FactValue | None] | None) -> dict[str, FactValue | None]:
    if situation is None:
        return {}
    if isinstance(situation, Situation):
        return situation.model_dump()
    return Situation.model_validate(dict(situation)).model_dump()


def _notices(theme: Theme) -> list[str]:
    out: list[str] = []
    if theme.provenance == Provenance.names_only:
        out.append(NO_GUIDE_NOTICE)
        return out
    if theme.region and theme.region.caveat:
        out.append(theme.region.caveat)
    if not theme.materials:
        out.append(NO_MATERIALS_NOTICE)
    elif theme.materials_note:
        out.append(theme.materials_note)
    return out


def _base_item(m: Material, code: str, status: Status) -> Item:
    return Item(
        name=m.name,
        status=status,
        condition=m.condition,
        e_licence=m.exempt_by_e_licence,
        note=E_LICENCE_NOTE if m.exempt_by_e_licence else None,
        themes=[code],
    )


def classify_material(code: str, m: Material) -> tuple[str, Rule | None]:
    """How the rule table treats one material: ``always``, ``commitment``, ``rule`` (understood),
    ``no_case`` (official text states no case) or ``unparsed`` (a case no rule understands)."""
    if m.necessity == Necessity.always:
        return "always", None
    if m.necessity == Necessity.commitment_allowed:
        return "commitment", None
    if m.necessity == Necessity.conditional:
        rule = find_rule(code, m.name, m.condition)
        if rule is not None:
            return "rule", rule
        return ("no_case" if no_case(m.condition) else "unparsed"), None
    return "unknown", None


def _material_items(code: str, m: Material, facts: Mapping[str, FactValue | None]) -> list[Item]:
    kind, rule = classify_material(code, m)
    if kind in ("always", "commitment"):
        item = _base_item(m, code, "bring")
        if kind == "commitment" and not m.exempt_by_e_licence:
            item.note = COMMITMENT_NOTE
        items = [item]
        extra = find_extra(m.condition) if kind == "always" else None
        if extra is not None:
            xrule, xname = extra
            outcome = xrule.test(facts)
            x = Item(
                name=xname, status="bring", condition=m.condition, rule=xrule.id, extra=True, themes=[code]
            )
            if outcome is True:
                x.reason = f"因为{xrule.case}"
            elif outcome is False:
                x.status, x.reason = "not_needed", f"只在{xrule.case}时需要"
            else:
                x.status, x.reason = "ask", f"{xrule.case}时需要"
                x.facts = list(xrule.test.undecided(facts))
                if not x.facts:
                    x.status, x.reason = "check", OUTSIDE_CASES_REASON
            items.append(x)
        return items
    if kind == "rule" and rule is not None:
        outcome = rule.test(facts)
        item = _base_item(m, code, "bring")
        item.rule = rule.id
        if outcome is True:
            item.reason = f"因为{rule.case}"
        elif outcome is False:
            item.status, item.note, item.e_licence = "not_needed", None, False
            item.reason = rule.case if not rule.test.facts else f"只在{rule.case}时需要"
        else:
            item.status, item.reason = "ask", f"{rule.case}时需要"
            item.facts = list(rule.test.undecided(facts))
            if not item.facts:  # a known value the official text does not cover
                item.status, item.reason = "check", OUTSIDE_CASES_REASON
        return [item]
    item = _base_item(m, code, "check")
    item.reason = {
        "no_case": NO_CASE_REASON,
        "unparsed": UNPARSED_REASON,
    }.get(kind, UNKNOWN_NECESSITY_REASON)
    return [item]


def build_checklist(
    theme: Theme, situation: Situation | Mapping[str, FactValue | None] | None = None
) -> Checklist:
    """The person's checklist for one theme (see the module docstring for the groups)."""
    facts = _facts(situation)
    out = Checklist(code=theme.code, title=theme.title, provenance=theme.provenance, notices=_notices(theme))
    for m in theme.materials:
        for item in _material_items(theme.code, m, facts):
            getattr(out, item.status).append(item)
    out.questions = _questions(out.ask)
    return out


# --------------------------------------------------------------------------- questions


def _questions(ask: Iterable[Item]) -> list[Question]:
    """One question per unknown fact that decides an `ask` item, with the relevant options."""
    wanted: dict[str, set[FactValue] | None] = {}
    for item in ask:
        test = _test_of(item)
        for fact in item.facts:  # only the undecided facts (see Item.facts)
            opts = test.options(fact) if test is not None else None
            if fact in wanted and (wanted[fact] is None or opts is None):
                wanted[fact] = None
            elif fact in wanted:
                wanted[fact] = (wanted[fact] or set()) | (opts or set())
            else:
                wanted[fact] = opts
    out = []
    for fact, opts in wanted.items():
        spec = FACTS[fact]
        options = [Option(title=t, value=value_key(v)) for v, t in spec.options if opts is None or v in opts]
        out.append(Question(fact=fact, prompt=spec.prompt, options=options))
    return out


def _test_of(item: Item) -> Test | None:
    for rule in (*RULES, *EXTRA_RULES):
        if rule.id == item.rule:
            return rule.test
    return None


def questions_for(
    theme: Theme, situation: Situation | Mapping[str, FactValue | None] | None = None
) -> list[Question]:
    """Only the questions whose answers change this person's materials."""
    return build_checklist(theme, situation).questions


def parse_fact(key: str, raw: str) -> FactValue:
    """A CLI/button value for one fact: ``true``/``false`` (or 是/否) for yes/no facts, else the
    value key or its Chinese title. Raises ``ValueError`` for unknown facts or values."""
    spec = FACTS.get(key)
    if spec is None:
        raise ValueError(f"unknown fact {key!r}; known: {', '.join(FACTS)}")
    text = raw.strip()
    if spec.is_bool:
        low = text.lower()
        if low in ("true", "yes", "y", "1", "是", "对"):
            return True
        if low in ("false", "no", "n", "0", "否", "不是"):
            return False
    for value, title in spec.options:
        if text in (value_key(value), title):
            return value
    choices = ", ".join(f"{value_key(v)}（{t}）" for v, t in spec.options)
    raise ValueError(f"bad value {raw!r} for {key}; one of: {choices}")


# --------------------------------------------------------------------------- merging

_BRACKETED = re.compile(r"（[^（）]*）|\([^()]*\)")
_DROP = re.compile(r"[\s《》〈〉“”\"'、，,。.：:；;/／]")
_PREFIX = re.compile(r"^(中华人民共和国|湖南省)")
# whole-name synonyms after normalisation; only names of the applicant's own document
SYNONYMS: Mapping[str, str] = {
    "居民身份证": "身份证",
    "申请人身份证": "身份证",
    "本人身份证": "身份证",
    "申请人居民身份证": "身份证",
    "身份证件": "身份证",
    "有效身份证件": "身份证",
    "户口簿": "户口簿",
    "户口本": "户口簿",
    "居民户口簿": "户口簿",
    "居民户口本": "户口簿",
    "结婚证": "结婚证",
}


def normalise_name(name: str) -> str:
    """A conservative key for "the same document": brackets' contents, whitespace, punctuation and
    a 中华人民共和国/湖南省 prefix are dropped, then a small synonym table maps the applicant's
    own 身份证 / 户口簿(户口本) / 结婚证 names to one key. Names naming a person (父亲…, 男方…,
    父母…) keep that person, so different people's documents never merge."""
    key = _DROP.sub("", _BRACKETED.sub("", name)) or _DROP.sub("", name)
    key = _PREFIX.sub("", key)
    return SYNONYMS.get(key, key)


_RANK: Mapping[Status, int] = {"bring": 0, "ask": 1, "check": 2, "not_needed": 3}


def merge_checklists(lists: Sequence[Checklist]) -> MergedChecklist:
    """Merge several themes' checklists: one entry per document (by ``normalise_name``), kept in
    its strongest group (bring > ask > check > not_needed), serving all the themes that need it.
    ``saved`` counts the duplicate items the merge removed from the lists to prepare
    (bring, ask and check)."""
    merged: dict[str, Item] = {}
    order: list[str] = []
    for cl in lists:
        for status in GROUPS:
            for item in getattr(cl, status):
                key = normalise_name(item.name)
                if key not in merged:
                    merged[key] = item.model_copy(deep=True)
                    order.append(key)
                    continue
                old = merged[key]
                themes = old.themes + [c for c in item.themes if c not in old.themes]
                e_licence = old.e_licence and item.e_licence
                best = old if _RANK[old.status] <= _RANK[item.status] else item.model_copy(deep=True)
                best.themes, best.e_licence = themes, e_licence
                best.note = (
                    E_LICENCE_NOTE if e_licence else (None if best.note == E_LICENCE_NOTE else best.note)
                )
                merged[key] = best
    out = MergedChecklist(codes=[c.code for c in lists], titles=[c.title for c in lists])
    for cl in lists:
        out.notices += [f"{cl.title}：{n}" for n in cl.notices]
    for key in order:
        item = merged[key]
        getattr(out, item.status).append(item)
    before = sum(len(getattr(c, s)) for c in lists for s in ("bring", "ask", "check"))
    out.saved = before - sum(len(getattr(out, s)) for s in ("bring", "ask", "check"))
    seen: dict[str, Question] = {}
    for cl in lists:
        for q in cl.questions:
            if q.fact not in seen:
                seen[q.fact] = q.model_copy(deep=True)
            else:
                have = {o.value for o in seen[q.fact].options}
                values = have | {o.value for o in q.options}
                spec = FACTS[q.fact]
                seen[q.fact].options = [
                    Option(title=t, value=value_key(v)) for v, t in spec.options if value_key(v) in values
                ]
    asked = {f for item in out.ask for f in item.facts}
    out.questions = [q for f, q in seen.items() if f in asked]
    return out


# --------------------------------------------------------------------------- rendering

MAX_OFFICIAL = 80


def _short(text: str | None, limit: int = MAX_OFFICIAL) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _item_lines(n: int, item: Item, titles: Mapping[str, str] | None) -> list[str]:
    lines = [f"{n}. {item.name}"]
    if item.status == "bring" and item.rule and item.reason:
        lines.append(f"   · {item.reason}")
    elif item.status in ("ask", "not_needed") and item.reason:
        lines.append(f"   · {item.reason}")
    elif item.status == "check":
        lines.append(f"   · 官方说明：{_short(item.condition)}" if item.condition else f"   · {item.reason}")
    if item.note and item.status != "not_needed":
        lines.append(f"   · {item.note}")
    if titles and len(item.themes) > 1:
        lines.append("   · 共用：" + "、".join(titles.get(c, c) for c in item.themes))
    return lines


_HEADINGS: Mapping[Status, str] = {
    "bring": "要准备的材料（{n}项）：",
    "ask": "看您的情况，可能还要（{n}项）：",
    "check": "要不要带，请向窗口确认（{n}项）：",
    "not_needed": "您这次不用准备（{n}项）：",
}


def _render(
    heading: str,
    notices: list[str],
    groups: Mapping[Status, list[Item]],
    questions: list[Question],
    titles: Mapping[str, str] | None = None,
) -> list[str]:
    lines = [heading]
    lines += [f"提示：{n}" for n in notices]
    if not any(groups.values()):
        lines.append("没有可列出的材料。")
        return lines
    for status in GROUPS:
        items = groups[status]
        if not items:
            continue
        lines.append(_HEADINGS[status].format(n=len(items)))
        for i, item in enumerate(items, 1):
            lines += _item_lines(i, item, titles)
    if questions:
        lines.append("请告诉我：")
        for q in questions:
            lines.append(f"- {q.prompt}（{'／'.join(o.title for o in q.options)}）")
    return lines


def render_checklist(checklist: Checklist | MergedChecklist) -> str:
    """Plain Chinese text, numbered, short lines (used by the CLI and the action server)."""
    groups: dict[Status, list[Item]] = {g: getattr(checklist, g) for g in GROUPS}
    if isinstance(checklist, MergedChecklist):
        titles = dict(zip(checklist.codes, checklist.titles, strict=True))
        heading = "【" + "＋".join(checklist.titles) + "】合并材料清单"
        lines = _render(heading, checklist.notices, groups, checklist.questions, titles)
        if checklist.saved:
            lines.append(f"合并后少准备{checklist.saved}项重复材料。")
        return "\n".join(lines)
    return "\n".join(
        _render(f"【{checklist.title}】材料清单", checklist.notices, groups, checklist.questions)
    )


# --------------------------------------------------------------------------- CLI


def run_checklist(codes: Sequence[str], fact_args: Sequence[str]) -> int:
    """``python -m knowledge checklist CODE [CODE2 ...] [--fact key=value ...]``: print the
    Chinese checklist (merged when several codes are given). Exit 2 on bad input."""
    import sys

    from knowledge.store import load_catalogue

    facts: dict[str, FactValue] = {}
    for arg in fact_args:
        key, sep, raw = arg.partition("=")
        if not sep:
            print(f"--fact {arg!r}: expected key=value", file=sys.stderr)
            return 2
        try:
            facts[key.strip()] = parse_fact(key.strip(), raw)
        except ValueError as exc:
            print(f"--fact {arg!r}: {exc}", file=sys.stderr)
            return 2
    catalogue = load_catalogue()
    missing = [c for c in codes if c not in catalogue]
    if missing:
        print(f"unknown theme code(s): {', '.join(missing)}", file=sys.stderr)
        return 2
    situation = Situation.model_validate(facts)
    lists = [build_checklist(catalogue[c], situation) for c in dict.fromkeys(codes)]
    print(render_checklist(lists[0] if len(lists) == 1 else merge_checklists(lists)))
    return 0
