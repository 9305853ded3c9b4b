"""python -m knowledge validate: schema and rule errors as file:field: message."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from knowledge.store import DEFAULT_CATALOGUE_DIR
from knowledge.validate import run_validate
from knowledge.yamlio import dump, load_file


@pytest.fixture
def catalogue(tmp_path: Path) -> Path:
    if len(list(DEFAULT_CATALOGUE_DIR.glob("*.yml"))) < 60:
        pytest.skip("knowledge/catalogue not generated; run python -m knowledge import")
    folder = tmp_path / "catalogue"
    shutil.copytree(DEFAULT_CATALOGUE_DIR, folder)
    return folder


def _edit(path: Path, change) -> None:
    data = load_file(path)
    change(data)
    path.write_text(dump(data), encoding="utf-8")


def _run(folder: Path, capsys: pytest.CaptureFixture) -> tuple[int, str]:
    rc = run_validate(folder, folder.parent / "phrasings", folder.parent / "manual-none")
    return rc, capsys.readouterr().out


def test_real_catalogue_is_valid(capsys: pytest.CaptureFixture):
    if not DEFAULT_CATALOGUE_DIR.is_dir():
        pytest.skip("knowledge/catalogue not generated")
    assert run_validate() == 0
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1].startswith("validate OK:")


def test_copy_is_valid(catalogue: Path, capsys: pytest.CaptureFixture):
    rc, out = _run(catalogue, capsys)
    assert rc == 0, out
    assert "0 error(s)" in out


def test_broken_field_is_reported_with_file_and_field(catalogue: Path, capsys: pytest.CaptureFixture):
    def change(data):
        data["materials"][0]["necessity"] = "maybe"
        data["time_limit"]["working_days"] = "five"

    _edit(catalogue / "43PCN0009.yml", change)
    rc, out = _run(catalogue, capsys)
    assert rc == 1
    assert "43PCN0009.yml:materials.0.necessity: " in out
    assert "43PCN0009.yml:time_limit.working_days: " in out
    assert out.strip().splitlines()[-1].startswith("validate FAILED:")


def test_unknown_field_and_yaml_syntax(catalogue: Path, capsys: pytest.CaptureFixture):
    _edit(catalogue / "43PCN0010.yml", lambda d: d.update(colour="red"))
    (catalogue / "43PCN0011.yml").write_text("code: [unclosed\n", encoding="utf-8")
    rc, out = _run(catalogue, capsys)
    assert rc == 1
    assert "43PCN0010.yml:colour: " in out
    assert "43PCN0011.yml:(yaml): " in out


def test_code_mismatch_and_missing_official_code(catalogue: Path, capsys: pytest.CaptureFixture):
    (catalogue / "43PCN0012.yml").rename(catalogue / "43PCN0099.yml")
    rc, out = _run(catalogue, capsys)
    assert rc == 1
    assert "43PCN0099.yml:code: record code 43PCN0012 does not match the file name 43PCN0099" in out
    assert "43PCN0012.yml:(file): official theme missing from the catalogue" in out


def test_provenance_rules(catalogue: Path, capsys: pytest.CaptureFixture):
    _edit(catalogue / "43PCP0004.yml", lambda d: d["region"].update(caveat=None))

    def names_only_with_materials(d):
        d["materials"] = [{"name": "身份证", "necessity": "always"}]

    _edit(catalogue / "43PCP0014.yml", names_only_with_materials)
    rc, out = _run(catalogue, capsys)
    assert rc == 1
    assert "43PCP0004.yml:region.caveat: other_region themes need a caveat" in out
    assert "43PCP0014.yml:materials: names_only themes must not list materials" in out


def test_phrasings_files_are_checked(catalogue: Path, capsys: pytest.CaptureFixture):
    phr = catalogue.parent / "phrasings"
    phr.mkdir()
    (phr / "43PCN0009.yml").write_text("phrasings: [生孩子上户口, '', 生孩子上户口]\n", encoding="utf-8")
    (phr / "43PCN0010.yml").write_text("phrasings: 上学报名\n", encoding="utf-8")
    (phr / "43ZZ0000.yml").write_text("phrasings: [随便]\n", encoding="utf-8")
    rc, out = _run(catalogue, capsys)
    assert rc == 1
    assert "43PCN0009.yml:phrasings.1: must be a non-empty string" in out
    assert "43PCN0009.yml:phrasings.2: duplicate phrasing" in out
    assert "43PCN0010.yml:phrasings: missing or not a list" in out
    assert "43ZZ0000.yml:(file): no catalogue theme with code 43ZZ0000" in out
