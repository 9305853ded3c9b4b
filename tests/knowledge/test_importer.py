"""The importer on the real export: facts, provenance, determinism and bad input."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from knowledge import decode
from knowledge.domains import OFFICIAL_CODES
from knowledge.importer import import_catalogue, run_import
from knowledge.models import Necessity, Provenance, Theme
from knowledge.yamlio import load_file

REPO = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("HUNAN_DATA", REPO.parent / "shared" / "data" / "hunan-onething"))
NEWBORN_RAW = "raw/43PCN0009/768E6ABE9C2440DBB3493FD83BCA3036.json"
EMPTY_MATERIALS = {
    "43PCP0011",
    "43PCP0012",
    "43PCP0024",
    "43PCP0025",
    "43PCP0028",
    "43TCN0006",
    "43TCP0005",
    "43TCP0019",
}
NO_GUIDE = {
    "43PCC0001",
    "43PCP0014",
    "43PCP0018",
    "43PCP0019",
    "43PCP0020",
    "43TCP0013",
    "43TCP0016",
    "43TCP0017",
}


@pytest.fixture(autouse=True, scope="module")
def _official_export_present() -> None:
    if not DATA.is_dir():
        pytest.fail(f"official export not found at {DATA}: set HUNAN_DATA to the hunan-onething folder")


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Theme]]:
    out = tmp_path_factory.mktemp("catalogue")
    result = import_catalogue(DATA, out)
    assert result.problems == []
    return out, result.themes


def test_all_official_themes_and_hand_written_ones_are_written(imported):
    out, themes = imported
    files = sorted(p.stem for p in out.glob("*.yml"))
    assert len(files) == 60
    assert set(OFFICIAL_CODES) <= set(files)
    assert {"SYX-QYKB", "SYX-ESFZY"} <= set(files)
    assert files == sorted(themes)
    # every file loads back into the schema unchanged
    for code in files:
        assert Theme.model_validate(load_file(out / f"{code}.yml")) == themes[code]


def test_newborn_facts(imported):
    _, themes = imported
    t = themes["43PCN0009"]
    assert t.title == "新生儿出生一件事"
    assert t.audience == "个人"
    assert t.domain == "出生与家庭"
    assert t.provenance is Provenance.county
    assert t.region is not None and t.region.is_county_own and t.region.area_code == "430523999000"
    assert t.region.caveat is None
    assert t.department.lead == "邵阳县卫生健康局"
    assert "医保部门" in t.department.cooperating
    assert t.phones.consult == "0739-6810891"
    assert t.phones.complaint == "0739-12345"
    assert t.time_limit.raw == "5"
    assert t.time_limit.working_days == 5
    assert t.time_limit.display == "承诺5个工作日（以官网为准）"
    assert t.fee is not None and t.fee.charged is False and t.fee.display == "不收费"
    assert t.online.status == "可全程网办" and t.online.fully_online is True
    assert t.checklist_id == "768E6ABE9C2440DBB3493FD83BCA3036"
    assert t.source_file == NEWBORN_RAW
    assert t.official_url and "onethingCode=43PCN0009" in t.official_url
    assert t.official_url.endswith("onethingChecklistId=768E6ABE9C2440DBB3493FD83BCA3036")
    assert t.implementation_code == "43PCN0009225J0523"
    assert t.reform is not None and t.reform.days_before == 72.0 and t.reform.days_after == 5.0
    conditional = [m for m in t.materials if m.necessity is Necessity.conditional]
    assert any(m.condition and "不同民族" in m.condition for m in conditional)
    assert any(s.name == "出生医学证明首次签发" and s.time_limit_days == 5.0 for s in t.sub_matters)


def test_lists_follow_the_official_display_order(imported):
    _, themes = imported
    data = json.loads((DATA / NEWBORN_RAW).read_text(encoding="utf-8"))["data"]
    expected = [m["clmc"].strip() for m in sorted(data["materialList"], key=lambda m: float(m["pxh"]))]
    assert [m.name for m in themes["43PCN0009"].materials] == expected
    faq = [q["problem"].strip() for q in sorted(data["questionInfo"], key=lambda q: float(q["pxh"]))]
    assert [f.question for f in themes["43PCN0009"].faq] == faq
    necessities = {m["clmc"].strip(): m["clbyx"] for m in data["materialList"]}
    for m in themes["43PCN0009"].materials:
        assert m.raw_necessity == necessities[m.name]


def test_names_only_theme(imported):
    _, themes = imported
    for code in NO_GUIDE:
        t = themes[code]
        assert t.provenance is Provenance.names_only
        assert t.materials == [] and t.department.lead is None and t.time_limit.raw is None
        assert t.audience in {"个人", "法人"} and t.domain
    t = themes["43PCP0014"]
    assert t.title == "新车上牌“一件事”"
    assert any("没有" in n and "办事指南" in n for n in t.notes)
    assert any("红石科技园24栋" in n and "12345" in n for n in t.notes)
    assert t.phones.note and "通用" in t.phones.note
    assert t.places and t.places[0].note and "通用" in t.places[0].note


def test_other_region_theme_has_caveat(imported):
    _, themes = imported
    t = themes["43PCP0004"]
    assert t.provenance is Provenance.other_region
    assert t.region is not None and not t.region.is_county_own
    assert t.region.name == "邵阳市" and t.region.area_code == "430501000000"
    assert t.region.caveat == "以下为邵阳市的办事指南，县内办理请先电话确认"
    assert themes["43PCP0016"].region.name == "大祥区"
    other = [c for c, t in themes.items() if t.provenance is Provenance.other_region]
    assert len(other) == 11
    assert all(themes[c].region.caveat for c in other)


def test_township_and_mislabelled_region(imported):
    _, themes = imported
    t = themes["43TC2000100Y"]
    assert t.provenance is Provenance.county and t.region.name == "塘渡口镇" and t.region.is_county_own
    assert t.fee.charged is True and any("耕地占用税" in i for i in t.fee.items)
    t = themes["43TCP0018"]
    assert t.provenance is Provenance.county
    assert any("地区名为邵阳市" in n and "邵阳县本级" in n for n in t.notes)


def test_empty_material_lists_are_flagged(imported):
    _, themes = imported
    empty = {c for c, t in themes.items() if t.provenance is not Provenance.names_only and not t.materials}
    assert empty == EMPTY_MATERIALS
    for code in EMPTY_MATERIALS:
        assert themes[code].materials_note == "官方数据未列出材料清单"
        assert any("官方数据未列出材料清单" in n for n in themes[code].notes)


def test_codes_are_decoded_only_where_known(imported):
    _, themes = imported
    materials = [
        m for t in themes.values() for m in t.materials if t.provenance is not Provenance.hand_written
    ]
    assert materials
    for m in materials:
        assert m.raw_necessity in {"1", "2", "3"}
        if m.raw_form == "4":
            assert m.form is None  # clxs=4 is unclear: not decoded
        assert m.exempt_by_e_licence == (m.raw_exemption in {"2", "3"})
    assert any(m.necessity is Necessity.commitment_allowed for m in materials)
    t = themes["43PCN0009"]
    assert any("clxs=4" in n for n in t.notes) == any(m.raw_form == "4" for m in t.materials)
    assert t.online.raw_online_channels == "1,2"


def test_charges_and_online_status(imported):
    _, themes = imported
    marriage = themes["43PCP0007"]
    assert marriage.fee.charged is True
    assert marriage.fee.items == ["邮寄速递费：20元"]
    assert marriage.fee.display.startswith("收费：邮寄速递费（20元）")
    face = [t for t in themes.values() if t.online.status == "面签"]
    assert face and all(t.online.fully_online is False for t in face)
    assert all(t.online.fully_online is None for t in themes.values() if t.online.status in {"无", "暂无"})


def test_hand_written_themes(imported):
    _, themes = imported
    for code, title_part in (("SYX-QYKB", "企业开办"), ("SYX-ESFZY", "二手房")):
        t = themes[code]
        assert t.provenance is Provenance.hand_written and title_part in t.title
        assert any("人工整理" in n and "确认" in n for n in t.notes)
        assert t.phones.consult == "0739-12345" and "通用" in (t.phones.note or "")
        assert "以官网为准" in (t.summary or "")
    assert any("水电气网" in s.name for s in themes["SYX-ESFZY"].sub_matters)


def test_import_is_deterministic(imported, tmp_path: Path):
    first, _ = imported
    assert run_import(str(DATA), str(tmp_path)) == 0
    names = sorted(p.name for p in first.glob("*.yml"))
    assert names == sorted(p.name for p in tmp_path.glob("*.yml"))
    for name in names:
        assert (first / name).read_bytes() == (tmp_path / name).read_bytes(), name
    text = (tmp_path / "43PCN0009.yml").read_text(encoding="utf-8")
    assert "邵阳县卫生健康局" in text  # allow_unicode, not \u escapes
    assert "cjsj" not in text and "1721785870000" not in text  # no timestamps


def test_stale_files_are_removed(tmp_path: Path):
    (tmp_path / "43XX9999.yml").write_text("code: stale\n", encoding="utf-8")
    (tmp_path / "README.txt").write_text("keep me\n", encoding="utf-8")
    assert run_import(str(DATA), str(tmp_path)) == 0
    assert not (tmp_path / "43XX9999.yml").exists()
    assert (tmp_path / "README.txt").exists()


def _mini_source(tmp_path: Path) -> Path:
    src = tmp_path / "data"
    src.mkdir()
    shutil.copy(DATA / "themes.json", src / "themes.json")
    shutil.copy(DATA / "INDEX.md", src / "INDEX.md")
    for code in ("43PCN0009", "43PCP0007", "43PCN0013"):
        shutil.copytree(DATA / "raw" / code, src / "raw" / code)
    return src


def test_malformed_input_is_reported_and_the_rest_imported(tmp_path: Path, capsys: pytest.CaptureFixture):
    src = _mini_source(tmp_path)
    out = tmp_path / "out"
    # 1. corrupt JSON
    broken = next((src / "raw" / "43PCP0007").glob("*.json"))
    broken.write_text(broken.read_text(encoding="utf-8")[:500], encoding="utf-8")
    # 2. a missing field in basicInfo and in a material row
    edited = src / NEWBORN_RAW
    doc = json.loads(edited.read_text(encoding="utf-8"))
    del doc["data"]["basicInfo"]["qtbmmc"]
    del doc["data"]["materialList"][0]["clbyx"]
    edited.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    # 3. an unknown theme folder
    (src / "raw" / "43XXX0001").mkdir()
    (src / "raw" / "43XXX0001" / "ABC.json").write_text("{}", encoding="utf-8")

    assert run_import(str(src), str(out)) == 0
    err = capsys.readouterr().err
    broken_rel = broken.relative_to(src).as_posix()
    assert f"{broken_rel}:(json): invalid JSON" in err
    assert f"{NEWBORN_RAW}:data.basicInfo.qtbmmc: missing" in err
    assert f"{NEWBORN_RAW}:data.materialList[0].clbyx: missing" in err
    assert "raw/43XXX0001/ABC.json:(theme code): unknown theme code 43XXX0001" in err

    themes = {p.stem: Theme.model_validate(load_file(p)) for p in out.glob("*.yml")}
    assert len(themes) == 60
    retired = themes["43PCN0013"]
    assert retired.provenance is Provenance.county and retired.department.lead == "邵阳县人社局"
    newborn = themes["43PCN0009"]
    assert newborn.department.lead is None and newborn.phones.consult == "0739-6810891"
    assert Necessity.unknown in {m.necessity for m in newborn.materials}
    marriage = themes["43PCP0007"]
    assert marriage.provenance is Provenance.names_only
    assert any("无法读取" in n for n in marriage.notes)
    # themes whose raw folder was not copied fall back to names only
    assert themes["43TCN0003"].provenance is Provenance.names_only


def test_missing_data_folder_fails(tmp_path: Path, capsys: pytest.CaptureFixture):
    assert run_import(str(tmp_path / "nope"), str(tmp_path / "out")) == 1
    assert "not found" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("可全程网办", True),
        ("全程网办，无需到现场办理", True),
        ("面签", False),
        ("现场勘察", False),
        ("社保卡激活金融功能，需本人到合作银行现场办理。", False),
        ("如需补充材料提交，需要现场提交", None),
        ("无", None),
        ("暂无", None),
        ("提交材料信息", None),
        (None, None),
    ],
)
def test_fully_online_reading(text, expected):
    assert decode.fully_online(text) is expected


def test_time_limit_parsing():
    assert decode.working_days("5") == 5
    assert decode.working_days("5.0") == 5
    assert decode.working_days("5个工作日") is None
    assert decode.working_days(None) is None
    assert decode.necessity("7") is Necessity.unknown
