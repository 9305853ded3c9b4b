"""Rendering helpers: shortening, material grouping, caveats."""

from __future__ import annotations

from actions import render
from knowledge.models import Provenance, Region


def test_shorten_keeps_the_first_sentence_and_cuts_long_text():
    assert render.shorten("父母双方是不同民族时提供。其他情况不用。", 40) == "父母双方是不同民族时提供"
    cut = render.shorten("甲" * 100, 10)
    assert len(cut) == 10 and cut.endswith("…")
    assert render.shorten(None, 10) == ""


def test_group_materials_dedupes_and_prefers_always(themes):
    groups = render.group_materials(themes["43PCN0009"])
    always = [m.name for m in groups.always]
    other = [m.name for m in groups.conditional]
    assert always == ["父母身份证", "居民户口簿"]
    assert "父母身份证" not in other
    assert other == ["新生儿民族成份申请", "母亲授权委托书", "银行卡"]


def test_caveats(themes):
    assert render.region_caveat(themes["43PCN0009"]) == ""
    assert render.region_caveat(themes["43PCP0004"]).startswith("以下为邵阳市")
    no_text = themes["43PCP0004"].model_copy(update={"region": Region(name="新邵县", is_county_own=False)})
    assert "新邵县" in render.region_caveat(no_text)
    hand = themes["43PCN0009"].model_copy(update={"provenance": Provenance.hand_written, "region": None})
    assert "公开资料" in render.region_caveat(hand)


def test_fee_and_online_text(themes):
    assert render.fee_text(themes["43PCP0004"]) == "认证费（360元/份）"
    assert render.fee_text(themes["43PCP0014"]) == "以窗口告知为准"
    assert render.online_text(themes["43PCN0009"]) == "可全程网办（湖南政务服务网、湘易办APP）"
    assert render.online_text(themes["43PCP0004"]) == ""


def test_no_answer_has_blank_lines(themes):
    for theme in themes.values():
        assert "\n\n" not in render.render_thing(theme)
        assert "\n\n" not in render.render_materials(theme)
    assert "\n\n" not in render.render_no_match()
