"""The rule table of the personal checklist.

A conditional material's case lives in its official 填报须知 text (``condition``), and for some
materials in a bracket of its name (e.g. ``退休证（未达到法定退休年龄提前退休的提供）``).
Each ``Rule`` below maps such a text (a regular expression over the official words) to a test
on one or more facts of the person's situation. The table is explicit and small on purpose:
a conditional material that no rule understands is never guessed; the checklist shows it as
"needs checking" with the official text.

The facts (``FACTS``) are the fixed vocabulary the rules and the dialogue share. Only facts that
a real condition in ``knowledge/catalogue/`` depends on are listed here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

# --------------------------------------------------------------------------- facts

FactValue = str | bool


def value_key(value: FactValue) -> str:
    """A fact value as a button value: "true"/"false" for a yes/no fact, else the value key."""
    return ("true" if value else "false") if isinstance(value, bool) else value


@dataclass(frozen=True)
class Fact:
    key: str
    prompt: str  # short plain Chinese question
    options: tuple[tuple[FactValue, str], ...]  # (value, button title), canonical order

    @property
    def is_bool(self) -> bool:
        return all(isinstance(v, bool) for v, _ in self.options)

    def title_of(self, value: FactValue) -> str:
        return next((t for v, t in self.options if v == value), str(value))


def _yes_no(yes: str, no: str) -> tuple[tuple[FactValue, str], ...]:
    return ((True, yes), (False, no))


APPLICANT_OPTIONS: tuple[tuple[FactValue, str], ...] = (
    ("self", "本人"),
    ("mother", "妈妈"),
    ("father", "爸爸"),
    ("spouse", "配偶"),
    ("adoptive_parent", "养父母"),
    ("guardian", "其他监护人（如爷爷奶奶）"),
    ("appointed_guardian", "村委会、法院等指定的监护人"),
    ("institution", "儿童福利机构"),
    ("agent", "委托别人代办"),
)

FACT_LIST: tuple[Fact, ...] = (
    Fact("applicant", "这次由谁来办？", APPLICANT_OPTIONS),
    Fact("parents_same_ethnicity", "孩子爸爸妈妈是同一个民族吗？", _yes_no("是同一个民族", "民族不同")),
    Fact(
        "marital_status",
        "您现在的婚姻状况是？",
        (("unmarried", "未婚"), ("married", "已婚"), ("divorced", "离异"), ("widowed", "丧偶")),
    ),
    Fact("parents_divorced", "孩子的亲生父母离婚了吗？", _yes_no("离婚了", "没有离婚")),
    Fact("county_hukou", "您的户口在邵阳县吗？", _yes_no("在本县", "不在本县")),
    Fact("is_minor", "办证的人未满18岁吗？", _yes_no("未满18岁", "已满18岁")),
    Fact(
        "disability_kind",
        "是哪一类残疾？",
        (
            ("vision", "视力"),
            ("hearing", "听力"),
            ("speech", "言语"),
            ("physical", "肢体"),
            ("intellectual", "智力"),
            ("mental", "精神"),
            ("multiple", "多重"),
        ),
    ),
    Fact(
        "disability_service",
        "这次要办残疾人证的哪项业务？",
        (
            ("new", "新办证"),
            ("renew", "到期换证"),
            ("replace", "残损换新或资料更新"),
            ("lost", "遗失补办"),
            ("transfer", "迁移"),
            ("reassess", "类别或等级变更"),
            ("cancel", "注销"),
        ),
    ),
    Fact("has_disability", "家里有持残疾人证的人吗？", _yes_no("有", "没有")),
    Fact("has_student", "家里有正在上学的学生吗？", _yes_no("有", "没有")),
    Fact("bank_account_new", "是第一次办报销，或者收款银行账户换过吗？", _yes_no("是", "不是")),
    Fact("has_co_borrower", "贷款有共同借款人吗？", _yes_no("有", "没有")),
    Fact("has_co_owner", "房子有共有产权人吗？", _yes_no("有", "没有")),
    Fact("has_guarantor", "贷款有担保人吗？", _yes_no("有", "没有")),
    Fact(
        "property_type",
        "买的是哪种房子？",
        (("new_completed", "一手现房"), ("new_off_plan", "一手期房"), ("second_hand", "二手房")),
    ),
    Fact("is_new_talent", "您是新引进的人才吗？", _yes_no("是", "不是")),
    Fact("has_minor_children", "家里有未成年子女吗？", _yes_no("有", "没有")),
    Fact("joins_spouse", "是投靠配偶落户吗？", _yes_no("是", "不是")),
    Fact("archive_in_public_unit", "档案原来在机关或国有企事业单位吗？", _yes_no("是", "不是")),
    Fact(
        "housing_category",
        "申请公租房属于哪一类？",
        (
            ("local_family", "本地住房困难家庭"),
            ("migrant_worker", "外来务工人员"),
            ("new_employee", "新就业无房职工"),
            ("sanitation_worker", "环卫工人"),
        ),
    ),
    Fact("is_dibao", "是低保户吗？", _yes_no("是", "不是")),
    Fact("house_demolished", "家里的房子被拆迁过吗？", _yes_no("拆迁过", "没有")),
    Fact("owns_vehicle", "家里有机动车吗？", _yes_no("有", "没有")),
    Fact("has_business", "家里人名下有营业执照吗？", _yes_no("有", "没有")),
    Fact("has_self_built_house", "家里有自建房吗？", _yes_no("有", "没有")),
    Fact(
        "rental_mode",
        "想要哪种保障方式？",
        (("in_kind", "实物配租（分房子）"), ("subsidy", "租赁补贴（发补贴）")),
    ),
    Fact(
        "withdraw_reason",
        "提取公积金是为了什么？",
        (
            ("buy_completed", "买现房"),
            ("down_payment", "付购房首付款"),
            ("affordable_housing", "买保障性住房或公有住房"),
            ("rent_public", "租公租房"),
            ("rent_market", "租其他房子"),
            ("repay_loan", "还房贷"),
        ),
    ),
    Fact("early_retired", "您是提前退休的吗？", _yes_no("是提前退休", "不是")),
    Fact("rebuild_same_site", "是原址拆旧房再建吗？", _yes_no("是原址重建", "不是")),
    Fact("has_mortgage", "房子现在有抵押吗？", _yes_no("有抵押", "没有抵押")),
    Fact("has_health_report", "已经有体检报告或验证证明了吗？", _yes_no("已经有了", "还没有")),
    Fact("first_application", "单位是第一次申请吗？", _yes_no("第一次", "以前办过、已备案")),
)

FACTS: Mapping[str, Fact] = {f.key: f for f in FACT_LIST}


# --------------------------------------------------------------------------- tests

Outcome = bool | None  # True: the case applies; False: it does not; None: a needed fact is unknown


@dataclass(frozen=True)
class Is:
    """The fact's value is one of ``yes`` (True); one of ``no`` (False); else unknown.

    When ``no`` is None every known value outside ``yes`` and ``unsure`` means False. A value in
    ``unsure`` is a case the official text does not cover: the material is left to check at the
    window. Other values in neither set (when ``no`` is given) leave the case open, so the
    person is asked again with the options that decide it.
    """

    fact: str
    yes: frozenset[FactValue]
    no: frozenset[FactValue] | None = None
    unsure: frozenset[FactValue] = frozenset()

    def __call__(self, facts: Mapping[str, FactValue | None]) -> Outcome:
        value = facts.get(self.fact)
        if value is None or value in self.unsure:
            return None
        if value in self.yes:
            return True
        if self.no is None or value in self.no:
            return False
        return None

    @property
    def facts(self) -> tuple[str, ...]:
        return (self.fact,)

    def undecided(self, facts: Mapping[str, FactValue | None]) -> tuple[str, ...]:
        """The facts to ask about: unknown ones, or known ones whose value leaves the case open."""
        if self(facts) is not None or facts.get(self.fact) in self.unsure:
            return ()
        return (self.fact,)

    def options(self, fact: str) -> set[FactValue] | None:
        """The values worth offering when asking about ``fact`` (None: all of them)."""
        if fact != self.fact or self.no is None:
            return None
        return set(self.yes) | set(self.no) | set(self.unsure)


@dataclass(frozen=True)
class AnyOf:
    """True when any part applies; False when all parts are False; else unknown."""

    parts: tuple[Is, ...]

    def __call__(self, facts: Mapping[str, FactValue | None]) -> Outcome:
        results = [p(facts) for p in self.parts]
        if any(r is True for r in results):
            return True
        if all(r is False for r in results):
            return False
        return None

    @property
    def facts(self) -> tuple[str, ...]:
        return tuple(f for p in self.parts for f in p.facts)

    def undecided(self, facts: Mapping[str, FactValue | None]) -> tuple[str, ...]:
        if self(facts) is not None:
            return ()
        return tuple(f for p in self.parts for f in p.undecided(facts))

    def options(self, fact: str) -> set[FactValue] | None:
        return None


@dataclass(frozen=True)
class Never:
    """A case that cannot happen in 邵阳县 (e.g. a requirement of 长沙市 only)."""

    def __call__(self, facts: Mapping[str, FactValue | None]) -> Outcome:
        return False

    @property
    def facts(self) -> tuple[str, ...]:
        return ()

    def undecided(self, facts: Mapping[str, FactValue | None]) -> tuple[str, ...]:
        return ()

    def options(self, fact: str) -> set[FactValue] | None:
        return None


Test = Is | AnyOf | Never


def is_(
    fact: str, *yes: FactValue, no: tuple[FactValue, ...] | None = None, unsure: tuple[FactValue, ...] = ()
) -> Is:
    if fact not in FACTS:
        raise KeyError(f"unknown fact {fact!r}")
    return Is(fact, frozenset(yes), None if no is None else frozenset(no), frozenset(unsure))


def true(fact: str) -> Is:
    return is_(fact, True)


def false(fact: str) -> Is:
    return is_(fact, False)


# --------------------------------------------------------------------------- rules

Where = Literal["condition", "name"]


@dataclass(frozen=True)
class Rule:
    id: str
    pattern: str  # regex searched in the official text
    test: Test
    case: str  # the case in plain Chinese, e.g. 父母双方民族不同
    where: Where = "condition"
    codes: frozenset[str] = field(default_factory=frozenset)  # limit to these themes (empty: all)

    def matches(self, code: str, name: str, condition: str | None) -> bool:
        if self.codes and code not in self.codes:
            return False
        text = condition if self.where == "condition" else name
        return bool(text) and re.search(self.pattern, text or "") is not None


CHILD_ROLES = ("father", "mother", "adoptive_parent", "guardian", "appointed_guardian", "institution")
_OTHER_CITY = "仅长沙市、株洲市、湘潭市等地要求，本县不需要"

RULES: tuple[Rule, ...] = (
    # birth, childcare subsidy
    Rule("ethnicity", r"父母双方是不同民族", false("parents_same_ethnicity"), "父母双方民族不同"),
    Rule(
        "birth_parents",
        r"申领人为婴幼儿亲生父母",
        is_("applicant", "father", "mother", no=CHILD_ROLES),
        "由孩子亲生父母申领",
    ),
    Rule(
        "adoptive",
        r"申领人为婴幼儿养父母",
        is_("applicant", "adoptive_parent", no=CHILD_ROLES),
        "由养父母申领",
    ),
    Rule(
        "next_guardian",
        r"申领人为顺位监护人",
        is_("applicant", "guardian", no=CHILD_ROLES),
        "由顺位监护人（如爷爷奶奶）申领",
    ),
    Rule(
        "appointed_guardian",
        r"申领人为指定监护人",
        is_("applicant", "appointed_guardian", no=CHILD_ROLES),
        "由指定监护人申领",
    ),
    Rule(
        "institution",
        r"申领人为儿童福利机构",
        is_("applicant", "institution", no=CHILD_ROLES),
        "由儿童福利机构申领",
    ),
    Rule("parents_divorced", r"亲生父母离异", true("parents_divorced"), "孩子亲生父母已离婚"),
    # marriage
    Rule(
        "divorce_certificate",
        r"^离婚证或法院判决离婚",
        is_("marital_status", "divorced"),
        "离婚后再婚",
        where="name",
    ),
    Rule("widowed_remarry", r"丧偶后申请再婚", is_("marital_status", "widowed"), "丧偶后再婚"),
    Rule("widowed", r"“婚姻状态”为“丧偶”", is_("marital_status", "widowed"), "婚姻状况是丧偶"),
    Rule(
        "loan_marriage",
        r"当【婚姻状态】为“已婚”",
        is_("marital_status", "married", "divorced", "widowed", unsure=("unmarried",)),
        "已婚、离异或丧偶",
    ),
    Rule("joins_spouse", r"申请人投靠配偶时", true("joins_spouse"), "投靠配偶落户"),
    # disability
    Rule("non_local_resident", r"非户籍地常住", false("county_hukou"), "户口不在本县、在本县常住"),
    Rule("disability_cancel", r"需办理注销手续", is_("disability_service", "cancel"), "办理残疾人证注销"),
    Rule(
        "disability_lost",
        r"残疾人证等重要申请材料遗失",
        is_("disability_service", "lost"),
        "残疾人证等证件遗失",
    ),
    Rule(
        "legal_guardian",
        r"申请智力、精神类残疾人证和未成年",
        AnyOf((is_("disability_kind", "intellectual", "mental"), true("is_minor"))),
        "智力、精神类残疾或未成年人申请",
    ),
    Rule("has_disability", r"残疾人需提供", true("has_disability"), "家里有残疾人", where="name"),
    # social assistance, employment
    Rule("student", r"^在读学籍证明$", true("has_student"), "家里有在读学生", where="name"),
    Rule(
        "bank_account", r"初次办理手工（零星）报销", true("bank_account_new"), "第一次办报销或收款账户有变化"
    ),
    Rule(
        "archive_public_unit",
        r"(档案原|原档案)在机关、国有企事业单位",
        true("archive_in_public_unit"),
        "档案原来在机关或国有企事业单位",
    ),
    # housing-fund loan
    Rule("co_borrower", r"^共同借(贷|款)人", true("has_co_borrower"), "有共同借款人", where="name"),
    Rule("co_owner", r"^共有产权人", true("has_co_owner"), "有共有产权人", where="name"),
    Rule("guarantor", r"^担保人", true("has_guarantor"), "有担保人", where="name"),
    Rule(
        "new_completed", r"仅可办证一手现房", is_("property_type", "new_completed"), "买的是可办证的一手现房"
    ),
    Rule("new_talent", r"新引进人才", true("is_new_talent"), "新引进人才"),
    Rule("minor_children", r"有多孩家庭和有未成年子女", true("has_minor_children"), "有未成年子女"),
    # public rental housing
    Rule("other_city", r"^(长沙市|株洲市|湘潭市本级|岳阳市)", Never(), _OTHER_CITY),
    Rule(
        "changsha_address", r"不属于长沙市范围的无需提供", Never(), "只有地址在长沙市范围内才需要，本县不需要"
    ),
    Rule(
        "migrant_worker",
        r"申请类型为“外来务工人员”",
        is_("housing_category", "migrant_worker"),
        "以外来务工人员申请",
    ),
    Rule("new_employee", r"新就业无房职工", is_("housing_category", "new_employee"), "以新就业无房职工申请"),
    Rule("sanitation", r"^环卫工人", is_("housing_category", "sanitation_worker"), "以环卫工人申请"),
    Rule("dibao", r"选择“低保户”", true("is_dibao"), "是低保户"),
    Rule("demolished", r"房屋被拆迁", true("house_demolished"), "家里房子被拆迁过"),
    Rule("vehicle", r"有机动车必传", true("owns_vehicle"), "家里有机动车"),
    Rule("business", r"名下注册工商营业执照", true("has_business"), "家里人名下有营业执照"),
    Rule("self_built", r"^自建房证明$", true("has_self_built_house"), "家里有自建房", where="name"),
    Rule("in_kind", r"“实物配租\s*”时必传", is_("rental_mode", "in_kind"), "选择实物配租"),
    # housing-fund withdrawal
    Rule("buy_completed", r"购买现房的提供", is_("withdraw_reason", "buy_completed"), "买现房", where="name"),
    Rule("down_payment", r"支付购房首付款", is_("withdraw_reason", "down_payment"), "付购房首付款"),
    Rule(
        "affordable",
        r"购买保障性住房或公有住房",
        is_("withdraw_reason", "affordable_housing"),
        "买保障性住房或公有住房",
    ),
    Rule("rent_public", r"（公租房）$", is_("withdraw_reason", "rent_public"), "租公租房", where="name"),
    Rule("early_retired", r"提前退休的提供", true("early_retired"), "提前退休", where="name"),
    # agents, rural housing, second-hand housing, foreigners
    Rule(
        "agent",
        r"委托人身份证明和授权委托书|^授权委托书",
        is_("applicant", "agent"),
        "委托别人代办",
        where="name",
    ),
    Rule("rebuild", r"原址拆除重建", true("rebuild_same_site"), "原址拆旧房再建"),
    Rule("mortgage", r"房屋有抵押", true("has_mortgage"), "房子有抵押、要带押过户"),
    Rule(
        "health_report",
        r"先期已取得体检报告或验证证明的，无需提供",
        false("has_health_report"),
        "还没有体检报告或验证证明",
    ),
    Rule(
        "first_application",
        r"非首次申请的已备案登记单位免予提交",
        true("first_application"),
        "单位第一次申请",
    ),
)


@dataclass(frozen=True)
class ExtraRule:
    """An always-needed material whose official text adds another document in one case."""

    id: str
    pattern: str  # regex over the condition; group 1 (when present) is the extra document's name
    test: Test
    case: str
    name: str | None = None  # used when the pattern has no group


EXTRA_RULES: tuple[ExtraRule, ...] = (
    ExtraRule(
        "father_applies",
        r"当父亲办理时，还必须填写《([^》]+)》",
        is_("applicant", "father", no=("mother",)),
        "由爸爸来办",
    ),
)

# Official texts that describe no case at all (boilerplate, format or photo specs). A conditional
# material with such a text is still shown as "needs checking"; these patterns only let the
# coverage report say why.
NO_CASE_PATTERNS: tuple[str, ...] = (
    r"^真实有效$",
    r"^申请人自备$",
    r"按照法律法规规定应提交的材料",
    r"^(内容|保证材料的)?真实",
    r"合法有效$",
    r"通过大数据总枢纽进行数据共享",
    r"^尺寸：",
    r"符合规定，确保真实有效",
    r"^据实填写$",
    r"申请材料齐全、符合要求",
    r"^自动生成$",
    r"^备注户名和开户行信息$",
    r"需加盖企业公章或者申请人签字",
    r"^须申请人本人签字$",
    r"^材料真实、齐全",
)


def no_case(condition: str | None) -> bool:
    """True when the official text states no case (empty or boilerplate)."""
    text = (condition or "").strip()
    return not text or any(re.search(p, text) for p in NO_CASE_PATTERNS)


def find_rule(code: str, name: str, condition: str | None) -> Rule | None:
    """The first rule that understands this material's official text, or None."""
    return next((r for r in RULES if r.matches(code, name, condition)), None)


def find_extra(condition: str | None) -> tuple[ExtraRule, str] | None:
    """An extra-document rule for an always-needed material, with the extra document's name."""
    for rule in EXTRA_RULES:
        m = re.search(rule.pattern, condition or "")
        if m:
            return rule, (m.group(1) if m.groups() else rule.name or "")
    return None
