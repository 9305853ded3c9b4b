"""The spaCy pipeline that Rasa's SpacyNLP loads (config.yml): a blank ``zh`` pipeline whose
EntityRuler finds towns, person groups and official one-thing names.

The patterns are the NLU lookup tables of those entities (``data/nlu/*.yml``: ``town``,
``person_group``, ``thing``), so a name has one home. EntitySynonymMapper then maps what is found
(长阳铺 -> 长阳铺镇, 新生儿出生一件事 -> its theme code), as before.

Why an EntityRuler instead of RegexEntityExtractor's lookup alternation: the ruler keeps the
longest match whatever the order of the list (the alternation took the first alternative that
matched, so 五峰铺林场 had to be listed before 五峰铺), and it never returns overlapping spans.
Figures in docs/spacy.md.

The segmenter is spaCy's ``char`` one, on purpose: with jieba, the ruler's phrase patterns are
segmented when the pipeline loads, and JiebaTokenizer's user dictionary (loaded into the same
global jieba later) changes the boundaries, so matches fail silently. Characters are what the
lookups were matched on before (no word boundaries in Chinese).

Build it (setup does, with the Rasa venv; any spaCy 3 works, the app venv's too):

    .venv/rasa/bin/python -m rasa_components.spacy_pipeline [--out DIR]

It is rebuilt only when the patterns changed (their hash is in the pipeline's meta).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
NLU_DIR = ROOT / "data" / "nlu"
# config.yml names this path relative to the repository (Rasa runs from there).
PIPELINE_DIR = ROOT / "var" / "spacy" / "zh_yijianshi"
LABELS = ("town", "person_group", "thing")
PIPELINE_NAME = "yijianshi_lexicon"


def lookup_patterns(nlu_dir: Path = NLU_DIR, labels: tuple[str, ...] = LABELS) -> list[dict[str, str]]:
    """EntityRuler phrase patterns from the ``lookup`` blocks of ``labels`` in the NLU files."""
    patterns: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for path in sorted(nlu_dir.rglob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in doc.get("nlu") or []:
            label = block.get("lookup")
            if label not in labels:
                continue
            for line in str(block.get("examples") or "").splitlines():
                term = line.strip().removeprefix("- ").strip()
                if term and (label, term) not in seen:
                    seen.add((label, term))
                    patterns.append({"label": label, "pattern": term})
    return patterns


def patterns_hash(patterns: list[dict[str, str]]) -> str:
    blob = json.dumps(patterns, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:16]


def build(patterns: list[dict[str, str]] | None = None) -> Any:  # spacy.language.Language
    """The pipeline in memory: blank zh (char segmenter) + EntityRuler, case-insensitive."""
    import spacy

    patterns = lookup_patterns() if patterns is None else patterns
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "char"}}})
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    ruler.add_patterns(patterns)
    nlp.meta["name"] = PIPELINE_NAME
    nlp.meta["version"] = "1.0.0"
    nlp.meta["description"] = "Towns, person groups and one-thing names of Shaoyang County (from data/nlu lookups)"
    nlp.meta["patterns_hash"] = patterns_hash(patterns)
    return nlp


def saved_hash(out: Path) -> str | None:
    try:
        return json.loads((out / "meta.json").read_text(encoding="utf-8")).get("patterns_hash")
    except (OSError, ValueError):
        return None


def ensure_built(out: Path = PIPELINE_DIR, patterns: list[dict[str, str]] | None = None) -> bool:
    """Build and save the pipeline (from the NLU lookups unless ``patterns`` are given) unless the
    one on disk has the same patterns; True if built."""
    patterns = lookup_patterns() if patterns is None else patterns
    if not patterns:
        raise SystemExit(f"no lookup patterns for {', '.join(LABELS)} under {NLU_DIR}")
    if saved_hash(out) == patterns_hash(patterns):
        return False
    out.parent.mkdir(parents=True, exist_ok=True)
    build(patterns).to_disk(out)
    return True


def entities(nlp: Any, text: str) -> list[tuple[int, int, str]]:
    """(start, end, label) of what the ruler finds, the way SpacyEntityExtractor reports it."""
    return [(e.start_char, e.end_char, e.label_) for e in nlp(text).ents]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=PIPELINE_DIR)
    args = parser.parse_args(argv)
    patterns = lookup_patterns()
    built = ensure_built(args.out, patterns)
    print(f"spaCy pipeline {'built' if built else 'up to date'}: {args.out} ({len(patterns)} patterns)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
