"""Query latency of the knowledge search (p50 / p95 / p99), with a BM25-only baseline from the same run.

    .venv/app/bin/python bench/search_latency.py [--rounds 3] [--json out.json]

Queries: the dev split (in-scope + out-of-scope) of knowledge/eval. The index must be buildable
(it is built or loaded from KNOWLEDGE_CACHE_DIR first; that time is reported, not measured per
query). Each query is run once untimed to warm up, then ``--rounds`` times.
Target: p95 <= 15 ms for `KnowledgeService.match` on the 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from knowledge.search.index import Searcher, load_dev_split  # noqa: E402
from knowledge.service import KnowledgeService  # noqa: E402


def _percentiles(samples: list[float]) -> dict[str, float]:
    ms = np.asarray(samples) * 1000.0
    return {
        "n": len(samples),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "mean_ms": round(float(ms.mean()), 2),
    }


def _time(fn, queries: list[str], rounds: int) -> list[float]:
    for q in queries:
        fn(q)
    samples = []
    for _ in range(rounds):
        for q in queries:
            t0 = time.perf_counter()
            fn(q)
            samples.append(time.perf_counter() - t0)
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    svc = KnowledgeService.build()
    load_s = time.perf_counter() - t0
    queries = [q for q, _ in load_dev_split()]
    if not queries:
        print("no dev queries found under knowledge/eval", file=sys.stderr)
        return 1
    searcher = svc.searcher
    bm25 = Searcher(
        searcher.index,
        searcher.tokenizer,
        fusion="score",
        dense_weight=0.0,
        calibrator=searcher.calibrator,
        encoder=searcher.encoder,
    )
    results = {
        "service_build_s": round(load_s, 2),
        "queries": len(queries),
        "rounds": args.rounds,
        "fusion": searcher.fusion,
        "dense_weight": searcher.dense_weight,
        "baseline_bm25_only_rank": _percentiles(_time(bm25.rank, queries, args.rounds)),
        "hybrid_rank": _percentiles(_time(searcher.rank, queries, args.rounds)),
        "service_match": _percentiles(_time(lambda q: svc.match(q, k=3), queries, args.rounds)),
    }
    if searcher.encoder is not None:
        results["query_encode_only"] = _percentiles(_time(searcher.encoder.encode, queries, args.rounds))
    print(json.dumps(results, ensure_ascii=False, indent=1))
    target = results["service_match"]["p95_ms"] <= 15.0
    print(
        f"p95 of match(): {results['service_match']['p95_ms']} ms (target <= 15 ms: {'met' if target else 'NOT met'})"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
