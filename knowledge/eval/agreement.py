"""Inter-annotator agreement on the test split of the realistic evaluation set.

``knowledge/eval/real/second_pass.yml`` holds a second, independent labelling of the
``test`` messages of ``knowledge/eval/real/messages.yml`` (made blind to the first labels,
following ``docs/eval-real.md``). This module loads and validates it and compares it
with the first labels:

- ``load_second_pass()`` checks the file: known labels, theme codes that exist in the
  catalogue, ids that are test-split messages, no duplicates, no test message missing.
- ``compare()`` gives the per-message comparison, the overall agreement, Cohen's kappa
  over the six labels, the confusion table (first x second) and, for ``thing``
  messages, whether the theme-code sets overlap.
- ``python -m knowledge.eval.agreement`` prints the report (``--json`` for JSON).

Disagreements are reported, not adjudicated: the first labels stay the yardstick.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, model_validator

from knowledge.eval.real import (
    DEFAULT_PATH,
    LABELS,
    REAL_DIR,
    Label,
    RealMessage,
    catalogue_codes,
    load_messages,
    validated_entries,
)

SECOND_PASS_PATH = REAL_DIR / "second_pass.yml"


class AgreementDataError(ValueError):
    """The second-pass file is malformed (the message says which entry and why)."""


class SecondLabel(BaseModel):
    """One entry of the second pass. ``things`` lists theme codes, the primary first."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    label: Label
    things: tuple[str, ...] = ()
    note: str | None = None

    @model_validator(mode="after")
    def _check(self) -> SecondLabel:
        if self.label == "thing" and not self.things:
            raise ValueError("label is 'thing' but things is empty")
        if self.things and self.label != "thing":
            raise ValueError(f"things given but label is {self.label!r} (things only for 'thing')")
        if len(set(self.things)) != len(self.things):
            raise ValueError("a theme code is repeated in things")
        return self


# --------------------------------------------------------------------------- loading


def parse_second_pass(
    items: Iterable[object], test_ids: Iterable[str], codes: Iterable[str], all_ids: Iterable[str] = ()
) -> list[SecondLabel]:
    """Validate raw entries against the test-split ids and the catalogue codes.

    ``all_ids`` (optional) lets the error say when an id is a dev message rather than
    an unknown one.
    """
    wanted = list(test_ids)
    wanted_set = frozenset(wanted)
    known_codes = frozenset(codes)
    known_ids = frozenset(all_ids)
    out: list[SecondLabel] = []
    entries = validated_entries(items, SecondLabel, known_codes, AgreementDataError, "second-pass entry")
    for entry in entries:
        if entry.id not in wanted_set:
            where = "a dev-split message" if entry.id in known_ids else "not a message of messages.yml"
            raise AgreementDataError(
                f"second-pass entry {entry.id}: unknown id ({where}; only test ids belong here)"
            )
        out.append(entry)
    seen = {e.id for e in out}
    missing = [i for i in wanted if i not in seen]
    if missing:
        shown = ", ".join(missing[:10]) + (" …" if len(missing) > 10 else "")
        raise AgreementDataError(f"second pass is missing {len(missing)} test id(s): {shown}")
    return out


def load_second_pass(
    path: Path = SECOND_PASS_PATH,
    first: Sequence[RealMessage] | None = None,
    codes: Iterable[str] | None = None,
) -> list[SecondLabel]:
    """The second-pass entries, checked against the first labels' test split."""
    if first is None:
        first = load_messages(DEFAULT_PATH, split="all", codes=codes)
    known = frozenset(codes) if codes is not None else catalogue_codes()
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise AgreementDataError(f"{path}: not valid YAML: {exc}") from exc
    items = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise AgreementDataError(f"{path}: expected a top-level 'entries' list")
    test_ids = [m.id for m in first if m.split == "test"]
    return parse_second_pass(items, test_ids, known, all_ids=[m.id for m in first])


# --------------------------------------------------------------------------- kappa


def cohen_kappa(first: Sequence[str], second: Sequence[str], labels: Sequence[str] | None = None) -> float:
    """Cohen's kappa of two label sequences (scikit-learn's ``cohen_kappa_score``).

    When both annotators used one and the same label for every item the chance
    agreement is 1 and kappa is undefined (0/0); it is returned as 1.0 (perfect
    agreement).
    """
    if len(first) != len(second):
        raise ValueError(f"length mismatch: {len(first)} vs {len(second)}")
    if not first:
        raise ValueError("no items")
    if len(set(first) | set(second)) == 1:
        return 1.0
    from sklearn.metrics import cohen_kappa_score

    value = float(cohen_kappa_score(list(first), list(second), labels=list(labels) if labels else None))
    return 1.0 if math.isnan(value) else value


# --------------------------------------------------------------------------- comparison


@dataclass(frozen=True)
class MessageComparison:
    """First and second label of one test message."""

    id: str
    source: str
    first: str
    second: str
    first_also: str | None
    first_things: tuple[str, ...]
    second_things: tuple[str, ...]
    second_note: str | None

    @property
    def agree(self) -> bool:
        return self.first == self.second

    @property
    def agree_with_also(self) -> bool:
        """The second label is the first label or the first pass's secondary (``also``) label."""
        return self.second in (self.first, self.first_also)

    @property
    def things_overlap(self) -> bool | None:
        """For messages either pass labelled ``thing``: do the theme-code sets share a code?"""
        if "thing" not in (self.first, self.second):
            return None
        return bool(set(self.first_things) & set(self.second_things))


@dataclass
class AgreementReport:
    n: int
    agreed: int
    agreed_with_also: int
    kappa: float
    confusion: dict[str, dict[str, int]]
    by_source: dict[str, dict[str, int]]
    both_thing: int
    both_thing_overlap: int
    both_thing_same_primary: int
    both_thing_same_set: int
    comparisons: list[MessageComparison] = field(default_factory=list)

    @property
    def percent(self) -> float:
        return 100.0 * self.agreed / self.n if self.n else 0.0

    @property
    def disagreements(self) -> list[MessageComparison]:
        return [c for c in self.comparisons if not c.agree]

    def to_dict(self) -> dict:
        return {
            "n": self.n,
            "agreed": self.agreed,
            "percent": round(self.percent, 1),
            "agreed_with_also": self.agreed_with_also,
            "kappa": round(self.kappa, 3),
            "confusion": self.confusion,
            "by_source": self.by_source,
            "thing": {
                "both_thing": self.both_thing,
                "codes_overlap": self.both_thing_overlap,
                "same_primary": self.both_thing_same_primary,
                "same_set": self.both_thing_same_set,
            },
            "disagreements": [
                {**asdict(c), "first_things": list(c.first_things), "second_things": list(c.second_things)}
                for c in self.disagreements
            ],
        }


def compare(first: Sequence[RealMessage], second: Sequence[SecondLabel]) -> AgreementReport:
    """Compare the second pass with the first labels of the same messages."""
    by_id = {m.id: m for m in first}
    comparisons: list[MessageComparison] = []
    for entry in second:
        msg = by_id.get(entry.id)
        if msg is None:
            raise AgreementDataError(f"second-pass entry {entry.id}: not in the first labels")
        comparisons.append(
            MessageComparison(
                id=entry.id,
                source=msg.source,
                first=msg.label,
                second=entry.label,
                first_also=msg.also,
                first_things=msg.things,
                second_things=entry.things,
                second_note=entry.note,
            )
        )
    if not comparisons:
        raise AgreementDataError("nothing to compare")
    confusion = {a: {b: 0 for b in LABELS} for a in LABELS}
    for c in comparisons:
        confusion[c.first][c.second] += 1
    by_source: dict[str, dict[str, int]] = {}
    for c in comparisons:
        row = by_source.setdefault(c.source, {"n": 0, "agreed": 0})
        row["n"] += 1
        row["agreed"] += c.agree
    both = [c for c in comparisons if c.first == "thing" and c.second == "thing"]
    return AgreementReport(
        n=len(comparisons),
        agreed=sum(c.agree for c in comparisons),
        agreed_with_also=sum(c.agree_with_also for c in comparisons),
        kappa=cohen_kappa([c.first for c in comparisons], [c.second for c in comparisons], LABELS),
        confusion=confusion,
        by_source=by_source,
        both_thing=len(both),
        both_thing_overlap=sum(bool(c.things_overlap) for c in both),
        both_thing_same_primary=sum(c.first_things[:1] == c.second_things[:1] for c in both),
        both_thing_same_set=sum(set(c.first_things) == set(c.second_things) for c in both),
        comparisons=comparisons,
    )


# --------------------------------------------------------------------------- report


def format_confusion(confusion: dict[str, dict[str, int]]) -> str:
    """The confusion table, first pass in rows, second pass in columns."""
    width = max(len(x) for x in LABELS)
    corner = "first \\ second"
    head = f"{corner:<{width + 4}}" + "".join(f"{b:>{width + 1}}" for b in LABELS) + f"{'total':>7}"
    lines = [head, "-" * len(head)]
    for a in LABELS:
        row = confusion[a]
        lines.append(
            f"{a:<{width + 4}}"
            + "".join(f"{row[b]:>{width + 1}}" for b in LABELS)
            + f"{sum(row.values()):>7}"
        )
    lines.append("-" * len(head))
    totals = [sum(confusion[a][b] for a in LABELS) for b in LABELS]
    lines.append(
        f"{'total':<{width + 4}}" + "".join(f"{t:>{width + 1}}" for t in totals) + f"{sum(totals):>7}"
    )
    return "\n".join(lines)


def format_report(report: AgreementReport) -> str:
    lines = [
        f"test messages compared: {report.n}",
        f"same label: {report.agreed} ({report.percent:.1f} %)",
        f"second label is the first label or its 'also': {report.agreed_with_also} "
        f"({100.0 * report.agreed_with_also / report.n:.1f} %)",
        f"Cohen's kappa (6 labels): {report.kappa:.3f}",
    ]
    for source, row in sorted(report.by_source.items()):
        lines.append(f"  {source}: {row['agreed']}/{row['n']} ({100.0 * row['agreed'] / row['n']:.1f} %)")
    lines += [
        "",
        format_confusion(report.confusion),
        "",
        f"both passes 'thing': {report.both_thing}; theme codes overlap: {report.both_thing_overlap}; "
        f"same primary: {report.both_thing_same_primary}; same set: {report.both_thing_same_set}",
    ]
    thing_diff = [
        c
        for c in report.comparisons
        if c.first == "thing" and c.second == "thing" and set(c.first_things) != set(c.second_things)
    ]
    for c in thing_diff:
        lines.append(f"  {c.id}: first {list(c.first_things)}  second {list(c.second_things)}")
    lines += ["", f"disagreements ({len(report.disagreements)}):"]
    for c in report.disagreements:
        also = f" (also {c.first_also})" if c.first_also else ""
        lines.append(f"  {c.id:<10} {c.first + also:<24} -> {c.second:<11} {c.second_note or ''}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m knowledge.eval.agreement",
        description="agreement of the second pass with the first labels (test split)",
    )
    parser.add_argument("--path", type=Path, default=SECOND_PASS_PATH, help="the second-pass file")
    parser.add_argument("--messages", type=Path, default=DEFAULT_PATH, help="the first labels")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    try:
        first = load_messages(args.messages)
        second = load_second_pass(args.path, first)
        report = compare(first, second)
    except (AgreementDataError, ValueError) as exc:
        print(f"invalid: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) if args.json else format_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
