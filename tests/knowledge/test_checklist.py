"""The personal checklist, on the real catalogue (knowledge/catalogue/)."""

from __future__ import annotations

import re
import subprocess
import sys
import typing
from collections import Counter
from pathlib import Path

import pytest
from pydantic import ValidationError

from knowledge.__main__ import main
from knowledge.checklist import (
    COMMITMENT_NOTE,
    E_LICENCE_NOTE,
    NO_GUIDE_NOTICE,
    NO_MATERIALS_NOTICE,
    Checklist,
    Item,
    Situation,
    build_checklist,
    classify_material,
    merge_checklists,
    normalise_name,
    parse_fact,
    questions_for,
    render_checklist,
)
from knowledge.checklist_rules import EXTRA_RULES, FACTS, RULES
from knowledge.models import Necessity, Provenance, Theme
from knowledge.store import DEFAULT_CATALOGUE_DIR, load_catalogue

ROOT = Path(__file__).resolve().parents[2]
BIRTH, SUBSIDY, MARRIAGE = "43PCN0009", "43PCP0022", "43PCP0007"
ETHNICITY = "新生儿民族成份申请"


@pytest.fixture(scope="module")
def cat() -> dict[str, Theme]:
    if not (DEFAULT_CATALOGUE_DIR / f"{BIRTH}.yml").is_file():
        pytest.skip("knowledge/catalogue not generated")
    return load_catalogue(DEFAULT_CATALOGUE_DIR)


def names(items: list[Item]) -> list[str]:
    return [i.name for i in items]


def find(cl: Checklist, name_part: str) -> tuple[str, Item]:
    hits = [
        (g, i) for g in ("bring", "not_needed", "ask", "check") for i in getattr(cl, g) if name_part in i.name
    ]
    assert len(hits) == 1, (name_part, hits)
    return hits[0]


# --------------------------------------------------------------------------- one theme


def test_parents_of_different_ethnicity_bring_the_ethnicity_form(cat):
    group, item = find(build_checklist(cat[BIRTH], Situation(parents_same_ethnicity=False)), ETHNICITY)
    assert group == "bring"
    assert item.rule == "ethnicity" and "民族不同" in (item.reason or "")


def test_same_ethnicity_does_not_need_it_and_says_why(cat):
    cl = build_checklist(cat[BIRTH], Situation(parents_same_ethnicity=True))
    group, item = find(cl, ETHNICITY)
    assert group == "not_needed"
    assert item.reason and "民族不同" in item.reason
    assert "parents_same_ethnicity" not in [q.fact for q in cl.questions]


def test_unknown_ethnicity_asks_one_plain_question(cat):
    cl = build_checklist(cat[BIRTH], Situation())
    group, item = find(cl, ETHNICITY)
    assert group == "ask" and item.facts == ["parents_same_ethnicity"]
    q = next(q for q in questions_for(cat[BIRTH], Situation()) if q.fact == "parents_same_ethnicity")
    assert "民族" in q.prompt
    assert {o.value for o in q.options} == {"true", "false"}
    assert all(o.title for o in q.options)


def test_father_applying_brings_the_mothers_authorisation(cat):
    group, item = find(build_checklist(cat[BIRTH], {"applicant": "father"}), "授权委托书")
    assert group == "bring" and item.extra
    assert "母亲委托父亲" in item.name  # the name comes from the official text
    group, _ = find(build_checklist(cat[BIRTH], {"applicant": "mother"}), "授权委托书")
    assert group == "not_needed"
    cl = build_checklist(cat[BIRTH], {})
    group, _ = find(cl, "授权委托书")
    assert group == "ask"
    q = next(q for q in cl.questions if q.fact == "applicant")
    assert {o.value for o in q.options} == {"father", "mother"}


def test_e_licence_materials_are_marked_not_dropped(cat):
    cl = build_checklist(cat[BIRTH], {})
    group, item = find(cl, "父母身份证")
    assert group == "bring" and item.e_licence and item.note == E_LICENCE_NOTE
    assert E_LICENCE_NOTE in render_checklist(cl)
    group, item = find(cl, "结婚证")
    assert not item.e_licence and item.note is None


def test_always_materials_are_always_in_bring(cat):
    for code in (BIRTH, SUBSIDY, MARRIAGE, "43PCP0002"):
        theme = cat[code]
        always = [m.name for m in theme.materials if m.necessity == Necessity.always]
        for situation in ({}, {"applicant": "agent", "marital_status": "widowed"}):
            bring = names(build_checklist(theme, situation).bring)
            assert all(n in bring for n in always), code


def test_every_material_lands_in_exactly_one_group(cat):
    situation = Situation(applicant="father", parents_same_ethnicity=False)
    for theme in cat.values():
        cl = build_checklist(theme, situation)
        plain = [i for g in ("bring", "not_needed", "ask", "check") for i in getattr(cl, g) if not i.extra]
        assert Counter(i.name for i in plain) == Counter(m.name for m in theme.materials), theme.code


def test_childcare_subsidy_resolves_the_claimant_cases(cat):
    theme = cat[SUBSIDY]
    cl = build_checklist(theme, {"applicant": "guardian", "parents_divorced": False})
    assert find(cl, "顺位监护人与婴幼儿亲属关系")[0] == "bring"
    assert find(cl, "婴幼儿父母死亡证明")[0] == "bring"
    assert find(cl, "结婚证")[0] == "not_needed"
    assert find(cl, "收养登记证")[0] == "not_needed"
    assert find(cl, "离婚证")[0] == "not_needed"
    assert cl.ask == [] and cl.questions == []
    # "self" does not say which role: the claimant question is asked again, with the roles
    cl = build_checklist(theme, {"applicant": "self"})
    assert find(cl, "收养登记证")[0] == "ask"
    q = next(q for q in cl.questions if q.fact == "applicant")
    assert "institution" in {o.value for o in q.options} and "self" not in {o.value for o in q.options}


def test_questions_only_for_facts_that_change_materials(cat):
    for theme in cat.values():
        cl = build_checklist(theme, {})
        asked = {f for i in cl.ask for f in i.facts}
        assert {q.fact for q in cl.questions} == asked, theme.code
        for q in cl.questions:
            assert q.options and len(q.prompt) <= 20
            for o in q.options:  # every button value is a valid answer
                Situation.model_validate({q.fact: parse_fact(q.fact, o.value)})
    # a theme with no understood conditional material asks nothing
    assert questions_for(cat["43PCN0011"]) == []


def test_answering_the_questions_empties_ask(cat):
    theme = cat["43PCP0001"]
    answers = {"has_co_borrower": True, "has_co_owner": False, "has_guarantor": False,
               "property_type": "new_completed", "is_new_talent": False, "has_minor_children": True,
               "marital_status": "married"}  # fmt: skip
    assert {q.fact for q in questions_for(theme)} <= set(answers)
    cl = build_checklist(theme, answers)
    assert cl.ask == [] and cl.questions == []
    assert find(cl, "共同借贷人身份证（电子影像）")[0] == "bring"
    assert find(cl, "担保人身份证")[0] == "not_needed"
    assert find(cl, "婚姻关系证明")[0] == "bring"
    # unmarried is a case the official text does not cover: check, not a repeated question
    cl = build_checklist(theme, {**answers, "marital_status": "unmarried"})
    group, item = find(cl, "婚姻关系证明")
    assert group == "check" and item.condition and "marital_status" not in [q.fact for q in cl.questions]


def test_other_city_requirements_do_not_apply_in_the_county(cat):
    cl = build_checklist(cat["43PCP0002"], {})
    group, item = find(cl, "单身声明具结书")
    assert group == "not_needed" and "长沙市" in (item.reason or "")
    assert find(cl, "居住证")[0] == "not_needed"  # 湘潭市本级 only


def test_conditions_no_rule_understands_are_shown_for_checking(cat):
    cl = build_checklist(cat[BIRTH], {})
    group, item = find(cl, "本人银行卡复印件")
    assert group == "check" and item.condition == "备注户名和开户行信息"
    assert "备注户名和开户行信息" in render_checklist(cl)


def test_commitment_allowed_materials_are_brought_with_a_note(cat):
    cl = build_checklist(cat["43PCP0006"], {})
    group, item = find(cl, "异地安置认定材料")
    assert group == "bring" and item.note == COMMITMENT_NOTE


def test_empty_material_list_says_so(cat):
    theme = cat["43PCP0011"]
    assert theme.provenance == Provenance.county and not theme.materials
    cl = build_checklist(theme, {})
    assert NO_MATERIALS_NOTICE in cl.notices
    text = render_checklist(cl)
    assert NO_MATERIALS_NOTICE in text and "没有可列出的材料" in text


def test_names_only_theme_says_there_is_no_local_guide(cat):
    theme = cat["43PCP0014"]
    assert theme.provenance == Provenance.names_only
    cl = build_checklist(theme, {})
    assert cl.notices == [NO_GUIDE_NOTICE] and not cl.bring and not cl.questions
    assert "暂无" in render_checklist(cl)


def test_other_region_guides_carry_their_caveat(cat):
    theme = cat["43PCP0023"]
    assert theme.provenance == Provenance.other_region and theme.region and theme.region.caveat
    assert theme.region.caveat in render_checklist(build_checklist(theme, {}))


def test_situation_is_a_fixed_vocabulary():
    assert all(v is None for v in Situation().model_dump().values())
    with pytest.raises(ValidationError):
        Situation(applicant="neighbour")
    with pytest.raises(ValidationError):
        Situation.model_validate({"favourite_colour": "red"})
    assert set(Situation.model_fields) == set(FACTS)
    for fact in FACTS.values():  # every option is a valid Situation value
        for value, title in fact.options:
            assert title
            Situation.model_validate({fact.key: value})
        hint = typing.get_type_hints(Situation)[fact.key]
        if fact.is_bool:
            assert hint == bool | None


def test_parse_fact():
    assert parse_fact("parents_same_ethnicity", "否") is False
    assert parse_fact("parents_same_ethnicity", "true") is True
    assert parse_fact("applicant", "爸爸") == "father"
    assert parse_fact("applicant", "agent") == "agent"
    with pytest.raises(ValueError):
        parse_fact("applicant", "neighbour")
    with pytest.raises(ValueError):
        parse_fact("no_such_fact", "1")


# --------------------------------------------------------------------------- merging


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("居民身份证", "身份证"),
        ("中华人民共和国居民身份证", "身份证"),
        ("申请人身份证", "居民身份证"),
        ("身份证（头像面、国徽面）", "身份证"),
        ("户口本", "居民户口簿"),
        ("居民户口簿 ", "户口簿"),
        ("中华人民共和国结婚证", "结婚证"),
        ("《新生儿出生医学记录》", "新生儿出生医学记录"),
    ],
)
def test_normalisation_merges_the_same_document(a, b):
    assert normalise_name(a) == normalise_name(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("父亲身份证", "母亲身份证"),
        ("父母身份证", "身份证"),
        ("男方居民身份证", "女方居民身份证"),
        ("男方居民户口簿", "居民户口簿"),
        ("死亡人员身份证", "身份证"),
        ("离婚证", "结婚证"),
        ("子女户口簿或者（出生证明）", "户口簿"),
        ("共同借贷人身份证", "担保人身份证"),
    ],
)
def test_normalisation_keeps_different_documents_apart(a, b):
    assert normalise_name(a) != normalise_name(b)


def test_merge_birth_and_childcare_subsidy_removes_duplicates(cat):
    situation = Situation(applicant="father")
    birth, subsidy = build_checklist(cat[BIRTH], situation), build_checklist(cat[SUBSIDY], situation)
    merged = merge_checklists([birth, subsidy])
    all_items = [i for g in ("bring", "not_needed", "ask", "check") for i in getattr(merged, g)]
    keys = [normalise_name(i.name) for i in all_items]
    assert len(keys) == len(set(keys))
    hukou = [i for i in merged.bring if normalise_name(i.name) == "户口簿"]
    marriage = [i for i in merged.bring if normalise_name(i.name) == "结婚证"]
    assert len(hukou) == 1 and hukou[0].themes == [BIRTH, SUBSIDY]
    assert len(marriage) == 1 and marriage[0].themes == [BIRTH, SUBSIDY]
    # the birth theme's 结婚证 has no e-licence exemption, so the merged one has none either
    assert not marriage[0].e_licence and marriage[0].note is None
    before = sum(len(getattr(c, g)) for c in (birth, subsidy) for g in ("bring", "ask", "check"))
    after = sum(len(getattr(merged, g)) for g in ("bring", "ask", "check"))
    assert merged.saved == before - after >= 2
    text = render_checklist(merged)
    assert f"少准备{merged.saved}项" in text and "共用" in text


def test_merge_keeps_different_peoples_documents(cat):
    merged = merge_checklists([build_checklist(cat[MARRIAGE], {}), build_checklist(cat[BIRTH], {})])
    bring = names(merged.bring)
    for name in (
        "男方居民身份证",
        "女方居民身份证",
        "父母身份证",
        "男方居民户口簿",
        "女方居民户口簿",
        "居民户口簿",
    ):
        assert bring.count(name) == 1, name
    assert merged.saved == 0


def test_merge_keeps_the_strongest_group_and_one_question_per_fact(cat):
    # 育儿补贴's 结婚证 waits on the claimant; the birth theme needs it anyway
    merged = merge_checklists([build_checklist(cat[BIRTH], {}), build_checklist(cat[SUBSIDY], {})])
    assert "中华人民共和国结婚证" in names(merged.bring)
    assert "中华人民共和国结婚证" not in names(merged.ask)
    facts = [q.fact for q in merged.questions]
    assert len(facts) == len(set(facts))
    assert {f for i in merged.ask for f in i.facts} == set(facts)
    q = next(q for q in merged.questions if q.fact == "applicant")
    assert {"father", "mother", "institution"} <= {o.value for o in q.options}


# --------------------------------------------------------------------------- the rule table


def test_every_conditional_material_is_classified(cat):
    counts: Counter[str] = Counter()
    for code, theme in cat.items():
        for m in theme.materials:
            kind, rule = classify_material(code, m)
            if m.necessity == Necessity.conditional:
                assert kind in ("rule", "no_case", "unparsed"), (code, m.name)
                assert (rule is not None) == (kind == "rule")
                counts[kind] += 1
    assert counts["rule"] > 0 and sum(counts.values()) == sum(
        m.necessity == Necessity.conditional for t in cat.values() for m in t.materials
    )
    # the figures in docs/catalogue.md are the real ones
    doc = (ROOT / "docs" / "catalogue.md").read_text(encoding="utf-8")
    m = re.search(r"understood by a rule: (\d+); no case stated: (\d+); case not understood: (\d+)", doc)
    assert m, "docs/catalogue.md lacks the checklist coverage line"
    assert tuple(map(int, m.groups())) == (counts["rule"], counts["no_case"], counts["unparsed"]), (
        f"update docs/catalogue.md: {dict(counts)}"
    )


def test_every_rule_matches_real_official_text(cat):
    used: Counter[str] = Counter()
    for code, theme in cat.items():
        for m in theme.materials:
            _, rule = classify_material(code, m)
            if rule:
                used[rule.id] += 1
    assert [r.id for r in RULES if not used[r.id]] == []
    conditions = [m.condition or "" for t in cat.values() for m in t.materials]
    for x in EXTRA_RULES:
        assert any(re.search(x.pattern, c) for c in conditions), x.id
    ids = [r.id for r in (*RULES, *EXTRA_RULES)]
    assert len(ids) == len(set(ids))
    rule_facts = {f for r in (*RULES, *EXTRA_RULES) for f in r.test.facts}
    assert rule_facts == set(FACTS), "every fact is used by a rule and every rule's fact exists"


# --------------------------------------------------------------------------- CLI


def test_cli_prints_the_checklist(cat, capsys):
    assert (
        main(["checklist", BIRTH, "--fact", "parents_same_ethnicity=false", "--fact", "applicant=爸爸"]) == 0
    )
    out = capsys.readouterr().out
    bring = out.split("要准备的材料")[1].split("要不要带")[0]
    assert ETHNICITY in bring and "授权委托书" in bring
    assert main(["checklist", BIRTH, SUBSIDY]) == 0
    assert "合并材料清单" in capsys.readouterr().out


def test_cli_rejects_bad_input(cat, capsys):
    assert main(["checklist", BIRTH, "--fact", "applicant=neighbour"]) == 2
    assert main(["checklist", BIRTH, "--fact", "applicant"]) == 2
    assert main(["checklist", "NOPE"]) == 2
    assert "NOPE" in capsys.readouterr().err


def test_cli_runs_as_a_module(cat):
    proc = subprocess.run(
        [sys.executable, "-m", "knowledge", "checklist", BIRTH, "--fact", "parents_same_ethnicity=true"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "您这次不用准备" in proc.stdout and ETHNICITY in proc.stdout.split("您这次不用准备")[1]
