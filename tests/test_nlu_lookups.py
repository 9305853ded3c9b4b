"""The NLU files generated from the knowledge base (scripts/make_nlu_lookups.py) stay in step with it,
and the patterns they hold find what they should (and nothing else)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _generator():
    spec = importlib.util.spec_from_file_location("make_nlu_lookups", ROOT / "scripts" / "make_nlu_lookups.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GEN = _generator()


def test_the_generated_files_are_in_step_with_the_knowledge_base() -> None:
    for target, text in GEN.outputs().items():
        assert target.read_text(encoding="utf-8") == text, "run .venv/app/bin/python scripts/make_nlu_lookups.py"


def test_the_matter_lookup_lists_every_lexicon_word_longest_first(tmp_path: Path) -> None:
    lexicon = tmp_path / "words.txt"
    lexicon.write_text("低保 1000 n\n最低生活保障 3000 n\n\n# a comment\n低保 2000 n\n", encoding="utf-8")
    body = GEN.render_matter_words(lexicon)
    assert body.splitlines()[-2:] == ["      - 最低生活保障", "      - 低保"]


def test_a_title_is_named_with_and_without_quotes_and_a_long_core_alone() -> None:
    names = GEN.names_of("开办餐饮店一件事")
    assert {"开办餐饮店一件事", "开办餐饮店"} <= set(names)
    quoted = GEN.names_of("退休“一件事”")
    assert {"退休“一件事”", "退休一件事", '退休"一件事"'} <= set(quoted)
    assert "退休" not in quoted  # too common a word to mean the one thing
    assert "家电以旧换新和手机等购新补贴申请" in GEN.names_of("家电以旧换新和手机等购新补贴申请(2025年度)")


def test_a_name_two_themes_share_is_left_out() -> None:
    names = GEN.thing_names({"A1": "企业开办“一件事”", "B2": "企业开办一件事", "C3": "新车上牌“一件事”"})
    assert "企业开办" not in names["A1"] + names["B2"]
    assert "新车上牌" in names["C3"]


def test_thing_names_map_every_name_to_its_code() -> None:
    doc = yaml.safe_load((ROOT / "data" / "nlu" / "thing_names.yml").read_text(encoding="utf-8"))
    lookup = next(b for b in doc["nlu"] if b.get("lookup") == "thing")
    synonyms = {b["synonym"]: b["examples"].split("\n- ") for b in doc["nlu"] if "synonym" in b}
    named = {line.strip().lstrip("- ") for line in lookup["examples"].splitlines() if line.strip()}
    mapped = {n.strip().lstrip("- ") for names in synonyms.values() for n in names if n.strip()}
    assert named == mapped
    assert "开办餐饮店" in named and "新生儿出生一件事" in named


def _role_pattern() -> re.Pattern[str]:
    doc = yaml.safe_load((ROOT / "data" / "nlu" / "applicant_roles.yml").read_text(encoding="utf-8"))
    [block] = [b for b in doc["nlu"] if b.get("regex") == "applicant_role"]
    return re.compile(block["examples"].strip().lstrip("- "))


def test_a_role_counts_only_before_a_verb_of_applying() -> None:
    pattern = _role_pattern()
    found = {text: [m.group() for m in pattern.finditer(text)] for text in (
        "孩子他爸去办", "我自己来办", "我屋里老倌子去办", "娭毑想申请低保", "爷爷亲自来办",
        "我堂客生了个伢子", "到村委会办", "向法院申请", "我爸生病了",
    )}
    assert found == {
        "孩子他爸去办": ["孩子他爸"],
        "我自己来办": ["我自己"],
        "我屋里老倌子去办": ["老倌子"],
        "娭毑想申请低保": ["娭毑"],
        "爷爷亲自来办": ["爷爷"],
        "我堂客生了个伢子": [],
        "到村委会办": [],
        "向法院申请": [],
        "我爸生病了": [],
    }
