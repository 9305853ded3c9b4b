"""The realistic evaluation set: real citizen messages plus long, messy written ones.

``knowledge/eval/real/messages.yml`` holds every labelled message (the labelling
guide is ``docs/eval-real.md``). This module loads and validates it; it does not
run the assistant.

- ``load_messages()`` reads the file and checks it: known labels, theme codes that
  exist in the catalogue, unique ids, split values, the ``domain_words`` flag.
- ``assign_splits()`` is the fixed dev/test rule (stratified by label and source,
  ordered by a sha256 of the id, about 60 % dev); the tests check that the stored
  splits follow it, so nobody moves a message by hand.
- ``python -m knowledge.eval.real --summary`` prints the label counts per split;
  ``--eval [--split dev|test]`` the figures of issue #13 (``knowledge/eval/real_runner.py``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

REAL_DIR = Path(__file__).resolve().parent / "real"
DEFAULT_PATH = REAL_DIR / "messages.yml"

Label = Literal["thing", "complaint", "suggestion", "question", "bancheng", "chitchat"]
LABELS: tuple[str, ...] = ("thing", "complaint", "suggestion", "question", "bancheng", "chitchat")
SOURCES: tuple[str, ...] = ("board", "written")
SPLITS: tuple[str, ...] = ("dev", "test")
DEV_SHARE = 0.6

# Words that make a message look like a government-service matter. ``domain_words``
# is true when a message contains one of them (title or text) and no one thing fits.
DOMAIN_WORDS: tuple[str, ...] = (
    "房",
    "户口",
    "户籍",
    "学校",
    "幼儿园",
    "上学",
    "入学",
    "读书",
    "医保",
    "社保",
    "医疗",
    "保险",
    "养老",
    "退休",
    "公积金",
    "低保",
    "救助",
    "残疾",
    "补贴",
    "拆迁",
    "征地",
    "物业",
    "工资",
    "车",
    "营业执照",
    "宅基地",
    "身份证",
    "出生",
    "结婚",
    "去世",
    "死亡",
    "生育",
)

_CODE_RE = re.compile(r"^(43[A-Z0-9]{6,12}|SYX-[A-Z]+)$")
_ID_RE = re.compile(r"^(b\d+(-\d+)?|w\d{3,})$")


class RealDataError(ValueError):
    """The labelled file is malformed (the message says which item and why)."""


def has_domain_words(text: str) -> bool:
    return any(word in text for word in DOMAIN_WORDS)


class RealMessage(BaseModel):
    """One labelled message. ``things`` lists theme codes, the primary first."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    source: Literal["board", "written"]
    board_id: int | None = None
    split: Literal["dev", "test"]
    label: Label
    things: tuple[str, ...] = ()
    also: Label | None = None
    consumer: bool | None = None
    dept: str | None = None
    domain_words: bool
    note: str | None = None
    title: str | None = None
    text: str = Field(min_length=1)

    @property
    def full_text(self) -> str:
        """Title and text as a citizen posted them (the title only on board messages)."""
        return f"{self.title}\n{self.text}" if self.title else self.text

    @property
    def fits_thing(self) -> bool:
        return bool(self.things)

    @model_validator(mode="after")
    def _check(self) -> RealMessage:
        if not _ID_RE.match(self.id):
            raise ValueError(f"bad id {self.id!r} (b<board id>[-n] or w<number>)")
        if self.source == "board":
            if self.board_id is None or not self.title:
                raise ValueError("a board message needs board_id and title")
            if self.id != f"b{self.board_id}" and not self.id.startswith(f"b{self.board_id}-"):
                raise ValueError(f"id {self.id!r} does not match board_id {self.board_id}")
        else:
            if self.board_id is not None or self.title is not None:
                raise ValueError("a written message has no board_id and no title")
            if not self.id.startswith("w"):
                raise ValueError("a written message id starts with 'w'")
        if self.also == self.label:
            raise ValueError("also repeats the label")
        wants_things = self.label == "thing" or self.also == "thing"
        if wants_things and not self.things:
            raise ValueError("label or also is 'thing' but things is empty")
        if self.things and not wants_things:
            raise ValueError("things given but neither label nor also is 'thing'")
        if len(set(self.things)) != len(self.things):
            raise ValueError("a theme code is repeated in things")
        for code in self.things:
            if not _CODE_RE.match(code):
                raise ValueError(f"malformed theme code {code!r}")
        if self.consumer and "complaint" not in (self.label, self.also):
            raise ValueError("consumer is only for complaints")
        if self.dept and "question" not in (self.label, self.also):
            raise ValueError("dept is only for questions")
        expected = not self.things and has_domain_words(self.full_text)
        if self.domain_words != expected:
            raise ValueError(f"domain_words should be {expected} (see DOMAIN_WORDS)")
        return self


# --------------------------------------------------------------------------- loading


def catalogue_codes(directory: Path | None = None) -> frozenset[str]:
    """Theme codes of the catalogue (one YAML file per code)."""
    if directory is None:
        from knowledge.store import catalogue_dir

        directory = catalogue_dir()
    return frozenset(p.stem for p in Path(directory).glob("*.yml"))


Entry = TypeVar("Entry", bound=BaseModel)


def validated_entries(
    items: Iterable[object], model: type[Entry], codes: frozenset[str], error: type[Exception], what: str
) -> Iterator[Entry]:
    """Each raw item as ``model`` (which has ``id`` and ``things``), in order; ``error`` naming the
    entry (``what`` and its id or position) for an invalid one, a repeated id or an unknown code."""
    seen: set[str] = set()
    for n, item in enumerate(items, start=1):
        ident = item.get("id", f"#{n}") if isinstance(item, dict) else f"#{n}"
        try:
            entry = model.model_validate(item)
        except ValidationError as exc:
            raise error(f"{what} {ident}: {exc}") from exc
        key = entry.id  # type: ignore[attr-defined]
        if key in seen:
            raise error(f"{what} {key}: duplicate id")
        seen.add(key)
        unknown = [c for c in entry.things if c not in codes]  # type: ignore[attr-defined]
        if unknown:
            raise error(f"{what} {key}: theme code(s) not in the catalogue: {unknown}")
        yield entry


def parse_messages(items: Iterable[dict], codes: Iterable[str] | None = None) -> list[RealMessage]:
    """Validate raw items (as read from the YAML file) into messages."""
    known = frozenset(codes) if codes is not None else catalogue_codes()
    return list(validated_entries(items, RealMessage, known, RealDataError, "message"))


def load_messages(
    path: Path = DEFAULT_PATH, split: str = "all", codes: Iterable[str] | None = None
) -> list[RealMessage]:
    """The labelled messages of one split (``dev``, ``test``) or ``all``."""
    if split != "all" and split not in SPLITS:
        raise ValueError(f"unknown split {split!r}")
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    items = data.get("messages") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise RealDataError(f"{path}: expected a top-level 'messages' list")
    messages = parse_messages(items, codes)
    return [m for m in messages if split == "all" or m.split == split]


# --------------------------------------------------------------------------- split rule


def split_key(ident: str) -> str:
    return hashlib.sha256(ident.encode("utf-8")).hexdigest()


def assign_splits(messages: Sequence[RealMessage]) -> dict[str, str]:
    """The fixed split: per (label, source) stratum, ordered by sha256(id), first 60 % dev."""
    strata: dict[tuple[str, str], list[str]] = {}
    for m in messages:
        strata.setdefault((m.label, m.source), []).append(m.id)
    out: dict[str, str] = {}
    for ids in strata.values():
        ordered = sorted(ids, key=split_key)
        n_dev = math.floor(DEV_SHARE * len(ordered) + 0.5)
        for i, ident in enumerate(ordered):
            out[ident] = "dev" if i < n_dev else "test"
    return out


# --------------------------------------------------------------------------- summary


def summary(messages: Sequence[RealMessage]) -> dict:
    """Counts per label and split (and per source), plus the figures the issue asks for."""
    by = Counter((m.label, m.split) for m in messages)
    by_source = Counter((m.label, m.source) for m in messages)
    splits = Counter(m.split for m in messages)
    themes = Counter(m.things[0] for m in messages if m.label == "thing")
    return {
        "total": len(messages),
        "splits": {s: splits[s] for s in SPLITS},
        "labels": {
            label: {
                **{s: by[(label, s)] for s in SPLITS},
                "board": by_source[(label, "board")],
                "written": by_source[(label, "written")],
                "all": sum(by[(label, s)] for s in SPLITS),
            }
            for label in LABELS
        },
        "sources": dict(Counter(m.source for m in messages)),
        "no_fit_with_domain_words": sum(m.domain_words for m in messages),
        "no_fit_with_domain_words_by_split": {
            s: sum(m.domain_words for m in messages if m.split == s) for s in SPLITS
        },
        "thing_written": sum(m.label == "thing" and m.source == "written" for m in messages),
        "thing_primary_themes": len(themes),
        "with_also": sum(m.also is not None for m in messages),
        "consumer": sum(bool(m.consumer) for m in messages),
    }


def format_summary(s: dict) -> str:
    lines = [
        f"{'label':<11} {'dev':>5} {'test':>5} {'all':>5}   {'board':>5} {'written':>7}",
        "-" * 46,
    ]
    for label, row in s["labels"].items():
        lines.append(
            f"{label:<11} {row['dev']:>5} {row['test']:>5} {row['all']:>5}   {row['board']:>5} {row['written']:>7}"
        )
    lines.append("-" * 46)
    lines.append(
        f"{'total':<11} {s['splits']['dev']:>5} {s['splits']['test']:>5} {s['total']:>5}   "
        f"{s['sources'].get('board', 0):>5} {s['sources'].get('written', 0):>7}"
    )
    nf = s["no_fit_with_domain_words_by_split"]
    lines += [
        "",
        f"no one thing fits but domain words appear: {s['no_fit_with_domain_words']} "
        f"(dev {nf['dev']}, test {nf['test']})",
        f"written messages where a one thing fits: {s['thing_written']} "
        f"({s['thing_primary_themes']} different primary themes over all 'thing' messages)",
        f"messages with a secondary label (also): {s['with_also']}; consumer disputes (12315): {s['consumer']}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m knowledge.eval.real", description="the realistic labelled message set"
    )
    parser.add_argument("--summary", action="store_true", help="print label counts per split (default)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--path", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--eval", action="store_true", help="run resolve() (and the baseline) and print the figures")
    parser.add_argument("--split", choices=SPLITS, default="dev", help="with --eval: the split (default dev)")
    parser.add_argument("--no-baseline", action="store_true", help="with --eval: skip the baseline")
    parser.add_argument("--calibrate", action="store_true", help="grid over resolve()'s thresholds on dev")
    args = parser.parse_args(argv)
    if args.eval or args.calibrate:
        from knowledge import config
        from knowledge.eval import real_runner

        config.ensure_offline()
        if args.calibrate:
            print(real_runner.calibrate("dev"))
            return 0
        result = real_runner.evaluate(args.split, baseline=not args.no_baseline)
        print(real_runner.to_json(result) if args.json else real_runner.format_report(result))
        return 0
    try:
        messages = load_messages(args.path)
    except RealDataError as exc:
        print(f"invalid: {exc}", file=sys.stderr)
        return 1
    s = summary(messages)
    print(json.dumps(s, ensure_ascii=False, indent=2) if args.json else format_summary(s))
    return 0


if __name__ == "__main__":
    sys.exit(main())
