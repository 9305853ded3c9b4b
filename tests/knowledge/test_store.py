"""load_catalogue: reading the catalogue folder and merging phrasings."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from knowledge.domains import OFFICIAL_CODES
from knowledge.models import Provenance, Theme
from knowledge.store import DEFAULT_CATALOGUE_DIR, clear_cache, load_catalogue

CODES = ("43PCN0009", "43PCP0014", "SYX-QYKB")


@pytest.fixture
def small_catalogue(tmp_path: Path) -> Path:
    if not all((DEFAULT_CATALOGUE_DIR / f"{c}.yml").is_file() for c in CODES):
        pytest.skip("knowledge/catalogue not generated; run python -m knowledge import")
    folder = tmp_path / "catalogue"
    folder.mkdir()
    for code in CODES:
        shutil.copy(DEFAULT_CATALOGUE_DIR / f"{code}.yml", folder / f"{code}.yml")
    clear_cache()
    return folder


def test_loads_the_real_catalogue_sorted():
    if not DEFAULT_CATALOGUE_DIR.is_dir():
        pytest.skip("knowledge/catalogue not generated")
    themes = load_catalogue(DEFAULT_CATALOGUE_DIR)
    assert list(themes) == sorted(themes)
    assert set(OFFICIAL_CODES) <= set(themes)
    assert all(isinstance(t, Theme) and t.code == c for c, t in themes.items())
    assert themes["43PCN0009"].department.lead == "邵阳县卫生健康局"


def test_merges_phrasings(small_catalogue: Path):
    phr = small_catalogue.parent / "phrasings"
    phr.mkdir()
    (phr / "43PCN0009.yml").write_text(
        "phrasings:\n- 生孩子上户口\n- ' 宝宝落户 '\n- 生孩子上户口\n", encoding="utf-8"
    )
    (phr / "43XX0000.yml").write_text("phrasings: [没有这个事项]\n", encoding="utf-8")
    themes = load_catalogue(small_catalogue)
    assert list(themes) == sorted(CODES)
    assert themes["43PCN0009"].phrasings == ["生孩子上户口", "宝宝落户"]
    assert themes["43PCP0014"].phrasings == []  # no file = no phrasings
    assert "43XX0000" not in themes
    assert themes["SYX-QYKB"].provenance is Provenance.hand_written


def test_missing_phrasings_folder_is_fine(small_catalogue: Path):
    themes = load_catalogue(small_catalogue, phrasings_dir=small_catalogue.parent / "absent")
    assert all(t.phrasings == [] for t in themes.values())


def test_cache_returns_same_objects_and_sees_changes(small_catalogue: Path):
    phr = small_catalogue.parent / "phrasings"
    phr.mkdir()
    first = load_catalogue(small_catalogue)
    second = load_catalogue(small_catalogue)
    assert first is not second  # callers get their own dict …
    assert first["43PCN0009"] is second["43PCN0009"]  # … of the cached themes
    (phr / "43PCN0009.yml").write_text("phrasings: [办出生证]\n", encoding="utf-8")
    assert load_catalogue(small_catalogue)["43PCN0009"].phrasings == ["办出生证"]


def test_env_var_selects_the_catalogue(small_catalogue: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KNOWLEDGE_CATALOGUE_DIR", str(small_catalogue))
    monkeypatch.setenv("KNOWLEDGE_PHRASINGS_DIR", str(small_catalogue.parent / "none"))
    assert list(load_catalogue()) == sorted(CODES)


def test_missing_folder_raises(tmp_path: Path):
    with pytest.raises(FileNotFoundError):
        load_catalogue(tmp_path / "nope")
