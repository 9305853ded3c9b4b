"""Typed answers to the personal-checklist questions (``knowledge.checklist_answers``)."""

from __future__ import annotations

import pytest

from knowledge.checklist_answers import ALIASES, SKIP_WORDS, is_skip, read_answer
from knowledge.checklist_rules import FACTS, FactValue


def _offered(fact: str) -> set[str]:
    return {("true" if v else "false") if isinstance(v, bool) else v for v, _ in FACTS[fact].options}


def _read(fact: str, text: str) -> FactValue | None:
    return read_answer(fact, _offered(fact), text)


# A "no" that contains a yes title.
NEGATED_TITLES = [
    ("house_demolished", "没拆迁过", False),
    ("house_demolished", "没有拆迁过", False),
    ("house_demolished", "冇拆过", False),
    ("early_retired", "不是提前退休的", False),
    ("rebuild_same_site", "不是原址重建", False),
    ("parents_same_ethnicity", "不是同一个民族", False),
    ("first_application", "不是第一次", False),
    ("is_minor", "不是未成年", False),
    ("county_hukou", "不是本县的户口", False),
    ("is_dibao", "不是低保户", False),
]

# 有/是 buttons: a 有 or 是 is not always a yes.
YES_WORD_TRAPS = [
    ("has_disability", "冇有", False),
    ("has_co_owner", "冇得共有人", False),
    ("has_co_owner", "没有共有产权人", False),
    ("has_co_owner", "房子是我一个人的", False),
    ("county_hukou", "户口是外地的", False),
    ("county_hukou", "户口在隆回", False),
    ("has_guarantor", "担保人冇得", False),  # negation after the phrase
    ("is_dibao", "低保户不是", False),
    ("has_mortgage", "没有，全款买的", False),
]

# Idioms with 没/不 that mean yes; 没满18 means a minor.
IDIOMS = [
    ("is_dibao", "没问题", True),
    ("has_student", "冇问题", True),
    ("joins_spouse", "没错", True),
    ("has_business", "没毛病", True),
    ("bank_account_new", "不错，是第一次", True),
    ("is_minor", "还没满18岁", True),
    ("is_minor", "没错，没满十八周岁", True),
    ("has_mortgage", "没错，没有抵押", False),
]

# Answers the old reader did not understand at all.
NOT_UNDERSTOOD_BEFORE = [
    ("applicant", "我自己办", "self"),
    ("applicant", "我老公去办", "father"),
    ("applicant", "孩子他爸去办", "father"),
    ("applicant", "爷爷奶奶去办", "guardian"),
    ("disability_service", "等级变更", "reassess"),
    ("withdraw_reason", "付首付", "down_payment"),
    ("withdraw_reason", "我租的公租房", "rent_public"),
    ("rental_mode", "分房子", "in_kind"),
    ("rental_mode", "发补贴", "subsidy"),
    ("marital_status", "离婚哒", "divorced"),
    ("marital_status", "我结婚了", "married"),
    ("marital_status", "离婚了", "divorced"),
    ("parents_divorced", "离婚哒", True),
    ("parents_same_ethnicity", "一个汉族一个苗族", False),
]

YES_NO_WORDS = [
    *[
        ("is_dibao", w, True)
        for w in ("嗯", "好的", "要得", "可以", "行", "ok", "OK", "对头", "是的", "有的")
    ],
    *[("has_co_borrower", w, True) for w in ("嗯嗯", "yes", "要的")],
    *[("is_dibao", w, False) for w in ("莫", "莫要", "nope", "No", "不是", "没")],
    *[("has_co_borrower", w, False) for w in ("冇得", "没得", "冇有", "没有", "不行")],
]

# More everyday and dialect answers.
REALISTIC = [
    ("applicant", "我堂客去办", "mother"),
    ("applicant", "孩子他妈", "mother"),
    ("applicant", "伢子他爸来", "father"),
    ("applicant", "娭毑带伢子去办", "guardian"),
    ("applicant", "我爹爹去办", "guardian"),  # 爹爹: grandfather in Hunan
    ("applicant", "托人代办", "agent"),
    ("applicant", "本人", "self"),
    ("applicant", "他妈妈自己去", "mother"),
    ("applicant", "不是我，是我堂客去", "mother"),
    ("applicant", "妈妈没空，爸爸来办", "father"),
    ("applicant", "我是他养母", "adoptive_parent"),
    ("applicant", "福利院来办", "institution"),
    ("applicant", "村委会指定的", "appointed_guardian"),
    ("parents_same_ethnicity", "爸爸是汉族，妈妈是苗族", False),
    ("parents_same_ethnicity", "都是汉族", True),
    ("parents_same_ethnicity", "民族不一样", False),
    ("parents_divorced", "冇离", False),
    ("parents_divorced", "还在一起，没离婚", False),
    ("parents_divorced", "已经离了", True),
    ("marital_status", "单身", "unmarried"),
    ("marital_status", "还冇结婚", "unmarried"),
    ("marital_status", "老伴前年走了", "widowed"),
    ("county_hukou", "户口在塘渡口", True),
    ("county_hukou", "户口不在这里", False),
    ("county_hukou", "在的", True),
    ("is_minor", "孩子才5岁", True),
    ("is_minor", "他三十岁了", False),
    ("is_minor", "已满18岁了", False),
    ("is_minor", "伢子未满18岁", True),
    ("has_minor_children", "孩子都20多岁了", False),
    ("has_minor_children", "两个伢子都在读小学", True),
    ("disability_kind", "眼睛看不见", "vision"),
    ("disability_kind", "耳朵听不到", "hearing"),
    ("disability_kind", "腿脚不方便", "physical"),
    ("disability_service", "证件丢了", "lost"),
    ("disability_service", "证快过期了", "renew"),
    ("disability_service", "人走了要注销", "cancel"),
    ("withdraw_reason", "不是还贷，是付首付", "down_payment"),
    ("withdraw_reason", "付房租", "rent_market"),
    ("withdraw_reason", "取出来还房贷", "repay_loan"),
    ("rental_mode", "不要房子，要补贴", "subsidy"),
    ("property_type", "还没交房", "new_off_plan"),
    ("property_type", "不是二手房，是一手现房", "new_completed"),
    ("owns_vehicle", "屋里有辆小车", True),
    ("owns_vehicle", "家里冇车", False),
    ("owns_vehicle", "车子冇得", False),
    ("has_student", "有个伢子在读书", True),
    ("has_business", "冇得，都是打工的", False),
    ("has_health_report", "还冇做体检", False),
    ("has_health_report", "体检报告已经有了", True),
    ("first_application", "冇办过", True),
    ("first_application", "以前办过的", False),
    ("bank_account_new", "卡没换", False),
    ("bank_account_new", "换了张新卡", True),
    ("joins_spouse", "不是，投靠父母", False),
    ("has_co_owner", "房产证上写了我和老婆两个人", True),
    ("has_self_built_house", "农村有栋自己建的房子", True),
    ("housing_category", "外地来打工的", "migrant_worker"),
    ("housing_category", "我是扫马路的", "sanitation_worker"),
    ("archive_in_public_unit", "原来在国企", True),
    ("early_retired", "病退的", True),
]


@pytest.mark.parametrize(
    ("fact", "text", "expected"),
    NEGATED_TITLES + YES_WORD_TRAPS + IDIOMS + NOT_UNDERSTOOD_BEFORE + YES_NO_WORDS + REALISTIC,
)
def test_read_answer(fact: str, text: str, expected: FactValue) -> None:
    value = _read(fact, text)
    assert value == expected and type(value) is type(expected), (fact, text, value)


@pytest.mark.parametrize(
    ("fact", "text"),
    [
        ("applicant", "今天好热"),
        ("applicant", "没有"),
        ("county_hukou", "户口在长沙"),  # a place we do not know: ask again
        ("is_minor", "十几岁"),  # could be either
        ("withdraw_reason", "公积金"),
        ("is_dibao", ""),
    ],
)
def test_not_an_answer(fact: str, text: str) -> None:
    assert _read(fact, text) is None


def test_only_offered_values() -> None:
    child_roles = {"father", "mother", "adoptive_parent", "guardian", "appointed_guardian", "institution"}
    assert read_answer("applicant", child_roles, "我自己办") is None
    assert read_answer("applicant", child_roles, "我老公去办") == "father"
    assert read_answer("applicant", {"self", "spouse", "agent"}, "我老公去办") == "spouse"
    assert read_answer("marital_status", {"divorced", "widowed"}, "未婚") is None
    assert read_answer("is_dibao", {"true"}, "不是") is None
    assert read_answer("is_dibao", {"false"}, "不是") is False
    assert read_answer("no_such_fact", {"true", "false"}, "是") is None


@pytest.mark.parametrize(
    "text",
    [
        "晓不得",
        "不太清楚",
        "记不得了",
        "不记得",
        "不好说",
        "不晓得",
        "我也不知道",
        "跳过",
        "下一题",
        "这个先跳过",
    ],
)
def test_skip_words(text: str) -> None:
    assert is_skip(text)


@pytest.mark.parametrize("text", ["是的", "冇得", "没问题", "不是本县的", "记得是第一次"])
def test_answers_are_not_skips(text: str) -> None:
    assert not is_skip(text)


def test_tables_match_the_facts() -> None:
    assert set(ALIASES) == set(FACTS)
    for key, table in ALIASES.items():
        spec = FACTS[key]
        values = {v for v, _ in spec.options}
        assert set(table) <= values, key
        if spec.is_bool:  # a yes/no phrase must mean one thing
            assert not set(table.get(True, ())) & set(table.get(False, ())), key
    assert len(SKIP_WORDS) == len(set(SKIP_WORDS))
