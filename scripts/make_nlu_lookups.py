"""Write the NLU files generated from the knowledge base, so NLU and knowledge never disagree.

- ``data/nlu/matter_words.yml``: the domain lexicon (``knowledge/lexicon/domain_words.txt``: 低保,
  公租房, 营业执照 …) as the lookup ``matter_word``. A RegexFeaturizer feature only ("the message
  mentions a matter", which keeps a bare matter name from being read as a yes or as chit-chat);
  nothing is annotated with it, so RegexEntityExtractor ignores it.
- ``data/nlu/thing_names.yml``: the entity ``thing``, the official name of a one thing
  (新生儿出生一件事, 开办餐饮店, 退休“一件事”), from the titles in ``knowledge/catalogue``. Synonyms
  map each name to its theme code, so the entity's value is the code.
- ``data/nlu/applicant_roles.yml``: the entity ``applicant_role``, who will apply (孩子他爸去办 →
  孩子他爸), from the applicant aliases the personal checklist reads
  (``knowledge.checklist_answers.ALIASES``). A regex: a role word only counts when a verb of
  applying follows it (来办 / 去办 / 申请 …), so 我堂客生了伢子 names nobody.

Examples that contain a name or a role must be annotated (``scripts/check_nlu_entities.py``
checks it and ``--fix`` adds what is missing). Run with the app venv:

    .venv/app/bin/python scripts/make_nlu_lookups.py          # rewrite the files
    .venv/app/bin/python scripts/make_nlu_lookups.py --check  # exit 1 when one is out of date
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from knowledge.checklist_answers import ALIASES  # noqa: E402
from knowledge.store import load_catalogue  # noqa: E402

LEXICON = ROOT / "knowledge" / "lexicon" / "domain_words.txt"
NLU = ROOT / "data" / "nlu"
MATTER_WORDS = NLU / "matter_words.yml"
THING_NAMES = NLU / "thing_names.yml"
APPLICANT_ROLES = NLU / "applicant_roles.yml"

# A short core name ("退休", "就医") is too common a word to mean the one thing by itself; those
# themes are named only with 一件事.
MIN_CORE_CHARS = 4
# Applicant aliases that are verbs or places (where one applies), not somebody who applies.
NOT_A_ROLE = re.compile(r"办|托|代理|收养|领养|抱养|亲自|村里|村委会|居委会|民政|法院")
# What must follow a role word: an optional 亲自 / 要 / 来 …, then a verb of applying.
APPLYING = r"(?=(?:亲自|自己|本人)?(?:要|会|想|准备|打算|可以|能)?(?:来|去|过来|过去)?(?:办|申请))"


def _header(source: str, what: str) -> list[str]:
    return [
        'version: "3.1"',
        "",
        f"# Generated from {source} by scripts/make_nlu_lookups.py; do not edit.",
        f"# {what}",
        "nlu:",
    ]


def _block(kind: str, name: str, items: Iterable[str]) -> list[str]:
    return [f"  - {kind}: {name}", "    examples: |", *(f"      - {item}" for item in items)]


def _longest_first(words: Iterable[str]) -> list[str]:
    return sorted(set(words), key=lambda w: (-len(w), w))  # the regex tries them in order


def render_matter_words(lexicon: Path = LEXICON) -> str:
    lines = lexicon.read_text(encoding="utf-8").splitlines()
    words = {line.split()[0] for line in lines if line.strip() and not line.startswith("#")}
    head = _header(
        "knowledge/lexicon/domain_words.txt", 'A feature for RegexFeaturizer ("mentions a matter"), never an entity.'
    )
    return "\n".join([*head, *_block("lookup", "matter_word", _longest_first(words))]) + "\n"


def names_of(title: str) -> list[str]:
    """The ways a title is written: as published, without quotes, the core name (without the
    bracketed part and 一件事) with 一件事 after it, and the core alone when it is long enough."""
    unquoted = re.sub(r"[“”\"「」]", "", title)
    core = re.sub(r"[（(][^）)]*[）)]", "", unquoted).replace("一件事", "").strip()
    names = [title, unquoted, f"{core}一件事", f'{core}"一件事"', f"{core}“一件事”"]
    if len(core) >= MIN_CORE_CHARS:
        names.append(core)
    return list(dict.fromkeys(n for n in names if n))


def thing_names(titles: Mapping[str, str]) -> dict[str, list[str]]:
    """Theme code → its names; a name two themes share is left out (it would not decide)."""
    owners: dict[str, set[str]] = {}
    for code, title in titles.items():
        for name in names_of(title):
            owners.setdefault(name, set()).add(code)
    return {
        code: _longest_first(n for n in names_of(title) if owners[n] == {code}) for code, title in sorted(titles.items())
    }


def render_thing_names(titles: Mapping[str, str] | None = None) -> str:
    if titles is None:
        titles = {code: theme.title for code, theme in load_catalogue().items()}
    by_code = thing_names(titles)
    every = _longest_first(n for names in by_code.values() for n in names)
    lines = _header("the titles in knowledge/catalogue", "Entity `thing`: a one thing named officially; its value is the theme code.")
    lines += _block("lookup", "thing", every)
    for code, names in by_code.items():
        lines += _block("synonym", code, names)
    return "\n".join(lines) + "\n"


def role_words(aliases: Mapping[str, Iterable[str]] | None = None) -> list[str]:
    table = ALIASES["applicant"] if aliases is None else aliases
    return _longest_first(w for words in table.values() for w in words if not NOT_A_ROLE.search(w))


def render_applicant_roles(aliases: Mapping[str, Iterable[str]] | None = None) -> str:
    pattern = "(?:" + "|".join(map(re.escape, role_words(aliases))) + ")" + APPLYING
    lines = _header(
        "knowledge.checklist_answers.ALIASES['applicant']",
        "Entity `applicant_role`: who will apply; a role word followed by a verb of applying.",
    )
    return "\n".join([*lines, *_block("regex", "applicant_role", [pattern])]) + "\n"


def outputs() -> dict[Path, str]:
    return {
        MATTER_WORDS: render_matter_words(),
        THING_NAMES: render_thing_names(),
        APPLICANT_ROLES: render_applicant_roles(),
    }


def main(argv: list[str]) -> int:
    stale = []
    for target, text in outputs().items():
        if "--check" in argv:
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                stale.append(target)
            continue
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target.relative_to(ROOT)}")
    for target in stale:
        print(f"{target.relative_to(ROOT)} is out of date: run .venv/app/bin/python scripts/make_nlu_lookups.py")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
