"""data/nlu/matter_words.yml is generated from the domain lexicon and must stay in step with it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _generator():
    spec = importlib.util.spec_from_file_location("make_matter_words", ROOT / "scripts" / "make_matter_words.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_matter_words_lookup_is_in_step_with_the_lexicon() -> None:
    gen = _generator()
    assert gen.TARGET.read_text(encoding="utf-8") == gen.render(), "run python3 scripts/make_matter_words.py"


def test_the_lookup_lists_every_lexicon_word_longest_first(tmp_path: Path) -> None:
    lexicon = tmp_path / "words.txt"
    lexicon.write_text("低保 1000 n\n最低生活保障 3000 n\n\n# a comment\n低保 2000 n\n", encoding="utf-8")
    body = _generator().render(lexicon)
    assert body.splitlines()[-2:] == ["      - 最低生活保障", "      - 低保"]
