"""Every town, township and farm of the county is found by its full and its spoken short name,
read the way the Rasa pipeline reads ``data/nlu/towns.yml``: spaCy's EntityRuler built from the
lookup (rasa_components/spacy_pipeline.py, the pipeline SpacyEntityExtractor uses), then
EntitySynonymMapper's synonyms."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from actions.places import TOWNS, short_town
from rasa_components import spacy_pipeline

ROOT = Path(__file__).resolve().parent.parent


def _town_reader():
    nlp = spacy_pipeline.build()
    nlu = yaml.safe_load((ROOT / "data" / "nlu" / "towns.yml").read_text(encoding="utf-8"))["nlu"]
    synonyms = {
        line.removeprefix("- ").strip(): block["synonym"]
        for block in nlu
        if "synonym" in block
        for line in block["examples"].splitlines()
        if line.strip()
    }

    def read(text: str) -> list[str]:
        found = [text[s:e] for s, e, label in spacy_pipeline.entities(nlp, text) if label == "town"]
        return [synonyms.get(t, t) for t in found]

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


def test_the_longest_name_wins_whatever_the_order_of_the_patterns() -> None:
    """The lookup alternation this replaced needed 五峰铺林场 listed before 五峰铺; the ruler does not."""
    patterns = [{"label": "town", "pattern": "五峰铺"}, {"label": "town", "pattern": "五峰铺林场"}]
    nlp = spacy_pipeline.build(patterns)
    assert spacy_pipeline.entities(nlp, "我在五峰铺林场上班") == [(2, 7, "town")]
    assert spacy_pipeline.entities(nlp, "我住五峰铺") == [(2, 5, "town")]


def test_masked_text_and_lowercase_names() -> None:
    nlp = spacy_pipeline.build()
    assert spacy_pipeline.entities(nlp, "我住在****镇，电话1**********") == []
    things = [label for _, _, label in spacy_pipeline.entities(nlp, "我想办新生儿出生一件事")]
    assert things == ["thing"]
