"""Write data/nlu/matter_words.yml: the domain lexicon as a lookup table for RegexFeaturizer.

knowledge/lexicon/domain_words.txt (shared by jieba and the knowledge search) lists the words of
government matters and their documents (低保, 公租房, 营业执照 …). As a lookup table they give the
intent classifier one feature, "the message mentions a matter", which keeps a bare matter name
(低保, 上户口) from being read as a yes or as chit-chat. Nothing is annotated with it, so
RegexEntityExtractor ignores it.

    python3 scripts/make_matter_words.py          # rewrite the file
    python3 scripts/make_matter_words.py --check  # exit 1 when it is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LEXICON = ROOT / "knowledge" / "lexicon" / "domain_words.txt"
TARGET = ROOT / "data" / "nlu" / "matter_words.yml"


def render(lexicon: Path = LEXICON) -> str:
    lines = lexicon.read_text(encoding="utf-8").splitlines()
    words = {line.split()[0] for line in lines if line.strip() and not line.startswith("#")}
    ordered = sorted(words, key=lambda w: (-len(w), w))  # longest first: the regex tries them in order
    head = [
        'version: "3.1"',
        "",
        "# Generated from knowledge/lexicon/domain_words.txt by scripts/make_matter_words.py; do not edit.",
        "# A feature for RegexFeaturizer (\"mentions a matter\"), never an entity.",
        "nlu:",
        "  - lookup: matter_word",
        "    examples: |",
    ]
    return "\n".join([*head, *(f"      - {w}" for w in ordered)]) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not TARGET.exists() or TARGET.read_text(encoding="utf-8") != text:
            print(f"{TARGET.relative_to(ROOT)} is out of date: run python3 scripts/make_matter_words.py")
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
