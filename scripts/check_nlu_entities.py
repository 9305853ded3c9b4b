"""Check that NLU examples are annotated exactly as RegexEntityExtractor will extract them.

The extractor finds towns, person groups, phones, ratings and theme codes from the lookup tables and
regexes in data/nlu (no word boundaries: Chinese has no spaces). An example whose annotation differs
from what the extractor finds teaches nothing and shows up as an entity error in `rasa test nlu`.

Run with the Rasa venv:  .venv/rasa/bin/python scripts/check_nlu_entities.py [FILE_OR_DIR ...]
(default: data/nlu and tests/nlu). Exit 1 and one line per mismatch when any are found.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from rasa.nlu.utils import pattern_utils
from rasa.shared.nlu.training_data.loading import load_data

ROOT = Path(__file__).resolve().parent.parent


def mismatches(patterns: list[dict], path: Path) -> list[str]:
    found = []
    for message in load_data(str(path)).intent_examples:
        text = message.get("text")
        gold = {(e["start"], e["end"], e["entity"]) for e in message.get("entities") or []}
        pred = {
            (m.start(), m.end(), p["name"])
            for p in patterns
            for m in re.finditer(p["pattern"], text, flags=re.IGNORECASE)
        }
        if gold != pred:
            missing = sorted(text[s:e] + f"({n})" for s, e, n in pred - gold)
            extra = sorted(text[s:e] + f"({n})" for s, e, n in gold - pred)
            found.append(f"{path}: [{message.get('intent')}] {text}  not annotated: {missing}  not found: {extra}")
    return found


def main(argv: list[str]) -> int:
    training = load_data(str(ROOT / "data" / "nlu"))
    patterns = pattern_utils.extract_patterns(
        training, use_lookup_tables=True, use_regexes=True, use_only_entities=True, use_word_boundaries=False
    )
    targets = [Path(a) for a in argv] or [ROOT / "data" / "nlu", ROOT / "tests" / "nlu"]
    files = [f for t in targets for f in (sorted(t.rglob("*.yml")) if t.is_dir() else [t])]
    problems = [line for f in files for line in mismatches(patterns, f)]
    for line in problems:
        print(line)
    print(f"{len(files)} files checked, {len(problems)} entity annotation mismatches")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
