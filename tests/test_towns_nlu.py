"""Every town, township and farm of the county is found by its full and its spoken short name,
read the way Rasa's RegexEntityExtractor reads ``data/nlu/towns.yml``: the lookup joined into one
alternation in file order, then EntitySynonymMapper."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from actions.places import TOWNS, short_town

ROOT = Path(__file__).resolve().parent.parent


def _town_reader():
    nlu = yaml.safe_load((ROOT / "data" / "nlu" / "towns.yml").read_text(encoding="utf-8"))["nlu"]
    lookup = next(b for b in nlu if b.get("lookup") == "town")
    elements = [line.removeprefix("- ").strip() for line in lookup["examples"].splitlines() if line.strip()]
    pattern = re.compile("(" + "|".join(map(re.escape, elements)) + ")", re.IGNORECASE)
    synonyms = {
        line.removeprefix("- ").strip(): block["synonym"]
        for block in nlu
        if "synonym" in block
        for line in block["examples"].splitlines()
        if line.strip()
    }

    def read(text: str) -> list[str]:
        return [synonyms.get(m.group(0), m.group(0)) for m in pattern.finditer(text)]

    return read


READ = _town_reader()
FARM_SHORT = {"七里山园艺场": "七里山", "五峰铺国有林场": "五峰铺林场", "河伯岭国有林场": "河伯岭"}


@pytest.mark.parametrize("town", TOWNS)
def test_a_town_is_found_by_its_full_and_short_name(town: str) -> None:
    short = FARM_SHORT.get(town, short_town(town))
    assert READ(f"我住在{town}") == [town]
    assert READ(f"我是{short}的") == [town]


def test_a_name_that_starts_another_is_not_cut_short() -> None:
    assert READ("我在五峰铺林场上班") == ["五峰铺国有林场"]
    assert READ("我屋在河伯岭那边") == ["河伯岭国有林场"]
    assert READ("我住河伯") == ["河伯乡"]
    assert READ("我住五峰铺") == ["五峰铺镇"]
