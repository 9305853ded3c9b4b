"""Evaluation of the one-thing search against the labelled query sets.

The metric functions take plain callables (``search(query, k) -> hits`` and
``match(query) -> answer``) so they can be tested with fakes; only
:func:`main` touches the real ``knowledge.service``.

A hit may be any object with a ``code`` attribute (``knowledge.service.Hit``),
a mapping with a ``"code"`` key, or a bare code string. An answer is rejected
when its ``verdict`` is ``none`` (the ``Verdict`` enum or its string value).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

EVAL_DIR = Path(__file__).resolve().parent
SPLITS = ("dev", "test")
TAGS = ("plain", "colloquial", "dialect", "typo", "long", "short", "material", "indirect")
OOS_EXTRA_TAGS = ("near_miss",)
DEFAULT_K = 5
WORST_N = 15

SearchFn = Callable[[str, int], Sequence[Any]]
MatchFn = Callable[[str], Any]


@dataclass(frozen=True)
class EvalQuery:
    q: str
    code: str
    tags: tuple[str, ...]
    split: str


@dataclass(frozen=True)
class OosQuery:
    q: str
    tags: tuple[str, ...]
    split: str


@dataclass(frozen=True)
class QueryResult:
    q: str
    gold: str
    codes: tuple[str, ...]  # returned codes, best first
    rank: int | None  # 1-based rank of the gold code, None when absent
    top_score: float | None  # score of the first hit, when the hit carries one
    tags: tuple[str, ...]
    split: str


@dataclass
class RankingMetrics:
    n: int
    top1: float
    top3: float
    mrr: float


@dataclass
class RejectionMetrics:
    oos_n: int
    oos_rejected: int
    rejection_rate: float  # share of out-of-scope queries answered "none"
    in_scope_n: int
    in_scope_rejected: int
    false_rejection_rate: float  # share of in-scope queries wrongly answered "none"
    false_rejections: list[str] = field(default_factory=list)
    accepted_oos: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- loading


def _read_items(path: Path) -> list[dict[str, Any]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    items = data.get("queries")
    if not isinstance(items, list):
        raise ValueError(f"{path}: expected a top-level 'queries' list")
    return items


def load_queries(split: str = "all", directory: Path = EVAL_DIR) -> list[EvalQuery]:
    """The labelled in-scope queries of one split (``dev``, ``test``) or ``all``."""
    splits = SPLITS if split == "all" else (split,)
    out: list[EvalQuery] = []
    for name in splits:
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}")
        for item in _read_items(directory / f"queries_{name}.yml"):
            out.append(
                EvalQuery(
                    q=str(item["q"]), code=str(item["code"]), tags=tuple(item.get("tags") or ()), split=name
                )
            )
    return out


def load_out_of_scope(split: str = "all", directory: Path = EVAL_DIR) -> list[OosQuery]:
    """The out-of-scope queries (each item carries its own ``split``)."""
    if split != "all" and split not in SPLITS:
        raise ValueError(f"unknown split {split!r}")
    out = [
        OosQuery(q=str(item["q"]), tags=tuple(item.get("tags") or ()), split=str(item["split"]))
        for item in _read_items(directory / "out_of_scope.yml")
    ]
    return [o for o in out if split == "all" or o.split == split]


# --------------------------------------------------------------------------- metrics


def hit_code(hit: Any) -> str:
    """The theme code of one search hit (object, mapping or bare string)."""
    if isinstance(hit, str):
        return hit
    if isinstance(hit, Mapping):
        return str(hit["code"])
    return str(hit.code)


def _hit_score(hit: Any) -> float | None:
    score = hit.get("score") if isinstance(hit, Mapping) else getattr(hit, "score", None)
    return float(score) if isinstance(score, (int, float)) else None


def rank_of(codes: Sequence[str], gold: str) -> int | None:
    """1-based position of ``gold`` in ``codes`` (first occurrence), None when absent."""
    for i, code in enumerate(codes, start=1):
        if code == gold:
            return i
    return None


def run_queries(queries: Iterable[EvalQuery], search: SearchFn, k: int = DEFAULT_K) -> list[QueryResult]:
    """Run every query through ``search`` and record where the gold code landed."""
    results: list[QueryResult] = []
    for item in queries:
        hits = list(search(item.q, k))[:k]
        codes = tuple(hit_code(h) for h in hits)
        results.append(
            QueryResult(
                q=item.q,
                gold=item.code,
                codes=codes,
                rank=rank_of(codes, item.code),
                top_score=_hit_score(hits[0]) if hits else None,
                tags=item.tags,
                split=item.split,
            )
        )
    return results


def ranking_metrics(results: Sequence[QueryResult]) -> RankingMetrics:
    """Top-1, top-3 accuracy and MRR (reciprocal rank within the returned hits; 0 when absent)."""
    n = len(results)
    if n == 0:
        return RankingMetrics(n=0, top1=0.0, top3=0.0, mrr=0.0)
    top1 = sum(1 for r in results if r.rank == 1) / n
    top3 = sum(1 for r in results if r.rank is not None and r.rank <= 3) / n
    mrr = sum(1.0 / r.rank for r in results if r.rank is not None) / n
    return RankingMetrics(n=n, top1=top1, top3=top3, mrr=mrr)


def metrics_by_split(results: Sequence[QueryResult]) -> dict[str, RankingMetrics]:
    """Metrics per split present in ``results``, plus ``all``."""
    out = {
        s: ranking_metrics([r for r in results if r.split == s])
        for s in SPLITS
        if any(r.split == s for r in results)
    }
    out["all"] = ranking_metrics(results)
    return out


def metrics_by_tag(results: Sequence[QueryResult]) -> dict[str, RankingMetrics]:
    """Metrics for the queries carrying each tag (a query counts once per tag)."""
    tags = sorted(
        {t for r in results for t in r.tags}, key=lambda t: (TAGS.index(t) if t in TAGS else len(TAGS), t)
    )
    return {t: ranking_metrics([r for r in results if t in r.tags]) for t in tags}


def worst_misses(results: Sequence[QueryResult], n: int = WORST_N) -> list[QueryResult]:
    """The ``n`` worst misses: gold absent first, then gold ranked lowest; confident wrong answers first."""
    misses = [r for r in results if r.rank != 1]

    def badness(r: QueryResult) -> tuple[int, float]:
        rank = r.rank if r.rank is not None else 10**6
        return (-rank, -(r.top_score or 0.0))

    return sorted(misses, key=badness)[:n]


def _is_rejected(answer: Any) -> bool:
    verdict = answer.get("verdict") if isinstance(answer, Mapping) else getattr(answer, "verdict", answer)
    return str(getattr(verdict, "value", verdict)) == "none"


def rejection_metrics(
    oos: Sequence[OosQuery], in_scope: Sequence[EvalQuery], match: MatchFn
) -> RejectionMetrics:
    """How often out-of-scope queries are rejected, and in-scope queries wrongly rejected."""
    accepted_oos = [o.q for o in oos if not _is_rejected(match(o.q))]
    false_rej = [q.q for q in in_scope if _is_rejected(match(q.q))]
    oos_rejected = len(oos) - len(accepted_oos)
    return RejectionMetrics(
        oos_n=len(oos),
        oos_rejected=oos_rejected,
        rejection_rate=oos_rejected / len(oos) if oos else 0.0,
        in_scope_n=len(in_scope),
        in_scope_rejected=len(false_rej),
        false_rejection_rate=len(false_rej) / len(in_scope) if in_scope else 0.0,
        false_rejections=false_rej,
        accepted_oos=accepted_oos,
    )


# --------------------------------------------------------------------------- report


@dataclass
class Report:
    split: str
    k: int
    by_split: dict[str, RankingMetrics]
    by_tag: dict[str, RankingMetrics]
    rejection: RejectionMetrics | None
    worst: list[QueryResult]

    def to_json(self) -> dict[str, Any]:
        return {
            "split": self.split,
            "k": self.k,
            "by_split": {s: asdict(m) for s, m in self.by_split.items()},
            "by_tag": {t: asdict(m) for t, m in self.by_tag.items()},
            "out_of_scope": asdict(self.rejection) if self.rejection else None,
            "worst_misses": [asdict(r) for r in self.worst],
        }


def evaluate(
    search: SearchFn,
    match: MatchFn | None,
    queries: Sequence[EvalQuery],
    oos: Sequence[OosQuery],
    *,
    split: str = "all",
    k: int = DEFAULT_K,
) -> Report:
    """All figures for one run; ``match`` None skips the rejection figures."""
    results = run_queries(queries, search, k)
    rejection = rejection_metrics(oos, queries, match) if match is not None else None
    return Report(
        split=split,
        k=k,
        by_split=metrics_by_split(results),
        by_tag=metrics_by_tag(results),
        rejection=rejection,
        worst=worst_misses(results),
    )


def _pct(x: float) -> str:
    return f"{100 * x:5.1f}%"


def format_report(report: Report, titles: Mapping[str, str] | None = None) -> str:
    titles = titles or {}
    lines = [f"One-thing search evaluation (split={report.split}, k={report.k})", ""]
    lines.append(f"{'split':<12}{'n':>5}  {'top-1':>6}  {'top-3':>6}  {'MRR':>6}")
    for name, m in report.by_split.items():
        lines.append(f"{name:<12}{m.n:>5}  {_pct(m.top1)}  {_pct(m.top3)}  {m.mrr:6.3f}")
    lines += ["", f"{'tag':<12}{'n':>5}  {'top-1':>6}  {'top-3':>6}"]
    for tag, m in report.by_tag.items():
        lines.append(f"{tag:<12}{m.n:>5}  {_pct(m.top1)}  {_pct(m.top3)}")
    if report.rejection is not None:
        r = report.rejection
        lines += [
            "",
            f"out-of-scope rejected:   {r.oos_rejected}/{r.oos_n} = {_pct(r.rejection_rate)}",
            f"in-scope false rejects:  {r.in_scope_rejected}/{r.in_scope_n} = {_pct(r.false_rejection_rate)}",
        ]
        if r.accepted_oos:
            lines.append("  accepted out-of-scope: " + " / ".join(r.accepted_oos[:10]))
    lines += ["", f"worst misses ({len(report.worst)}):"]
    for res in report.worst:
        rank = "—" if res.rank is None else str(res.rank)
        got = ", ".join(res.codes[:3]) or "(no hits)"
        gold = f"{res.gold} {titles.get(res.gold, '')}".strip()
        top = f"{res.codes[0]} {titles.get(res.codes[0], '')}".strip() if res.codes else "(no hits)"
        lines.append(f"  [{res.split}] rank {rank:>2}  {res.q}")
        lines.append(f"      gold: {gold}   top: {top}   got: {got}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m knowledge.eval", description="Evaluate the one-thing search."
    )
    parser.add_argument("--split", choices=("dev", "test", "all"), default="all")
    parser.add_argument(
        "--json", dest="json_path", default=None, help="also write the figures to this JSON file"
    )
    parser.add_argument("-k", type=int, default=DEFAULT_K, help="hits requested per query (default 5)")
    parser.add_argument(
        "--no-match", action="store_true", help="skip the out-of-scope / false-rejection figures"
    )
    args = parser.parse_args(argv)

    try:
        from knowledge.service import get_service
    except ImportError as exc:
        print(f"knowledge.service is not available: {exc}", file=sys.stderr)
        return 2

    service = get_service()
    titles = {t.code: t.title for t in service.themes()} if hasattr(service, "themes") else {}
    report = evaluate(
        service.search,
        None if args.no_match else service.match,
        load_queries(args.split),
        load_out_of_scope(args.split),
        split=args.split,
        k=args.k,
    )
    print(format_report(report, titles))
    if args.json_path:
        path = Path(args.json_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"\nfigures written to {path}", file=sys.stderr)
    return 0
