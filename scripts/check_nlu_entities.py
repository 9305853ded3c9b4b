"""Check that NLU examples are annotated exactly as the pipeline's extractors will extract them.

RegexEntityExtractor finds phones, ratings, theme codes and applicant roles from the regexes in
data/nlu (no word boundaries: Chinese has no spaces); spaCy's EntityRuler
(rasa_components/spacy_pipeline.py) finds towns, person groups and official one-thing names from
the lookup tables, longest match first, never overlapping. An example whose annotation differs from
what the extractors find teaches nothing and shows up as an entity error in `rasa test nlu`.

Run with the Rasa venv:  .venv/rasa/bin/python scripts/check_nlu_entities.py [FILE_OR_DIR ...]
(default: data/nlu and tests/nlu). Exit 1 and one line per mismatch when any are found.

    --fix ENTITY[,ENTITY…]  first annotate, in place, every occurrence of these entities that is
                            not annotated yet and overlaps no annotation (for example after
                            scripts/make_nlu_lookups.py added names); then check as usual.
"""

from __future__ import annotations

import re
import sys
from functools import lru_cache
from pathlib import Path

from rasa.nlu.utils import pattern_utils
from rasa.shared.nlu.training_data.loading import load_data

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rasa_components import spacy_pipeline  # noqa: E402


@lru_cache(maxsize=1)
def _ruler():  # noqa: ANN202 - spacy.language.Language
    return spacy_pipeline.build()


def ruler_spans(text: str, names: set[str] | None = None) -> set[tuple[int, int, str]]:
    """What the spaCy EntityRuler finds in ``text`` (only ``names`` when given)."""
    return {s for s in spacy_pipeline.entities(_ruler(), text) if names is None or s[2] in names}


def predicted(patterns: list[dict], text: str, ruler: set[str] | None = None) -> set[tuple[int, int, str]]:
    """The regexes' matches plus the ruler's spans (of ``ruler`` labels; all when None)."""
    found = {
        (m.start(), m.end(), p["name"])
        for p in patterns
        for m in re.finditer(p["pattern"], text, flags=re.IGNORECASE)
    }
    return found | ruler_spans(text, ruler)


def regex_patterns(training, only_entities: bool) -> list[dict]:  # noqa: ANN001 - Rasa TrainingData
    """The regexes RegexEntityExtractor uses (config.yml: lookups off, regexes on)."""
    return pattern_utils.extract_patterns(
        training, use_lookup_tables=False, use_regexes=True, use_only_entities=only_entities, use_word_boundaries=False
    )


def mismatches(patterns: list[dict], path: Path) -> list[str]:
    found = []
    for message in load_data(str(path)).intent_examples:
        text = message.get("text")
        gold = {(e["start"], e["end"], e["entity"]) for e in message.get("entities") or []}
        pred = predicted(patterns, text)
        if gold != pred:
            missing = sorted(text[s:e] + f"({n})" for s, e, n in pred - gold)
            extra = sorted(text[s:e] + f"({n})" for s, e, n in gold - pred)
            found.append(f"{path}: [{message.get('intent')}] {text}  not annotated: {missing}  not found: {extra}")
    return found


ANNOTATION = re.compile(r"\[([^\]]+)\](\([^)]*\)|\{[^}]*\})")
EXAMPLE_LINE = re.compile(r"^(\s*- )(.+)$")


def annotate_line(raw: str, patterns: list[dict], ruler: set[str] | None = None) -> str:
    """``raw`` (an example as written, annotations included) with every match of ``patterns``
    that lies in plain text, outside the existing annotations, annotated as ``[text](entity)``."""
    plain, positions, taken = [], [], []  # plain text; its raw offsets; annotated plain spans
    cursor = 0
    for m in ANNOTATION.finditer(raw):
        for i in range(cursor, m.start()):
            plain.append(raw[i])
            positions.append(i)
        start = len(plain)
        plain.extend(m.group(1))
        positions.extend([-1] * len(m.group(1)))
        taken.append((start, len(plain)))
        cursor = m.end()
    for i in range(cursor, len(raw)):
        plain.append(raw[i])
        positions.append(i)
    text = "".join(plain)
    spans = sorted(span for span in predicted(patterns, text, ruler) if span[1] > span[0])
    out = raw
    for start, end, name in reversed(_non_overlapping(spans, taken)):
        lo, hi = positions[start], positions[end - 1] + 1
        out = f"{out[:lo]}[{out[lo:hi]}]({name}){out[hi:]}"
    return out


def _non_overlapping(spans: list[tuple[int, int, str]], taken: list[tuple[int, int]]) -> list[tuple[int, int, str]]:
    kept: list[tuple[int, int, str]] = []
    for start, end, name in spans:
        if all(end <= a or start >= b for a, b in [*taken, *((s, e) for s, e, _ in kept)]):
            kept.append((start, end, name))
    return kept


def fix_file(path: Path, patterns: list[dict], ruler: set[str] | None = None) -> int:
    """Annotate ``patterns``' matches in the example lines of ``path``; the number of lines changed."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    changed, in_examples = 0, False
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("- intent:") or stripped.startswith("- regex:") or stripped.startswith("- lookup:"):
            in_examples = stripped.startswith("- intent:")
            continue
        if stripped.startswith("- synonym:"):
            in_examples = False
            continue
        m = EXAMPLE_LINE.match(line.rstrip("\n"))
        if not in_examples or not m:
            continue
        new = m.group(1) + annotate_line(m.group(2), patterns, ruler) + ("\n" if line.endswith("\n") else "")
        if new != line:
            lines[i] = new
            changed += 1
    if changed:
        path.write_text("".join(lines), encoding="utf-8")
    return changed


def main(argv: list[str]) -> int:
    fix: set[str] = set()
    if "--fix" in argv:
        at = argv.index("--fix")
        if at + 1 >= len(argv) or argv[at + 1].startswith("-"):
            print("usage: check_nlu_entities.py [--fix ENTITY[,ENTITY...]] [FILE_OR_DIR ...]")
            return 2
        fix = set(argv[at + 1].split(","))
        argv = argv[:at] + argv[at + 2 :]
    targets = [Path(a) for a in argv] or [ROOT / "data" / "nlu", ROOT / "tests" / "nlu"]
    files = [f for t in targets for f in (sorted(t.rglob("*.yml")) if t.is_dir() else [t])]
    if fix:
        chosen = [p for p in regex_patterns(load_data(str(ROOT / "data" / "nlu")), False) if p["name"] in fix]
        for f in files:
            if n := fix_file(f, chosen, fix & set(spacy_pipeline.LABELS)):
                print(f"{f}: annotated {n} examples")
    patterns = regex_patterns(load_data(str(ROOT / "data" / "nlu")), True)
    problems = [line for f in files for line in mismatches(patterns, f)]
    for line in problems:
        print(line)
    print(f"{len(files)} files checked, {len(problems)} entity annotation mismatches")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
