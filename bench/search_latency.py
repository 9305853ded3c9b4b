"""Query latency of the knowledge search (p50 / p95 / p99), with a BM25-only baseline from the same run.

    .venv/app/bin/python bench/search_latency.py [--rounds 3] [--threads 1,2] [--json out.json]

Queries: the dev split (in-scope + out-of-scope) of knowledge/eval. The index must be buildable
(it is built or loaded from KNOWLEDGE_CACHE_DIR first). Start-up is reported, not measured per
query: the service build (which waits for the sentence-transformers model, loaded in a background
thread meanwhile: ``encoder_load_s``) and the process's resident memory afterwards.
Each query is run once untimed to warm up, then ``--rounds`` times. ``service_match_cpu`` is the
CPU time per `match()` call: what it costs on an idle core (on a machine shared with other jobs
the wall time is higher). The query encoder alone is also timed with each torch thread count of
``--threads``, in alternating blocks (the service itself runs with KNOWLEDGE_TORCH_THREADS).
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


def _time(fn, queries: list[str], rounds: int, cpu: list[float] | None = None) -> list[float]:
    """Wall-clock seconds per call; with ``cpu``, also the process's CPU seconds per call into it."""
    for q in queries:
        fn(q)
    samples = []
    for _ in range(rounds):
        for q in queries:
            c0 = time.process_time()
            t0 = time.perf_counter()
            fn(q)
            samples.append(time.perf_counter() - t0)
            if cpu is not None:
                cpu.append(time.process_time() - c0)
    return samples


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def _time_threads(encode, queries: list[str], rounds: int, threads: list[int]) -> dict[str, dict[str, float]]:
    """Encode-only latency per torch thread count, in blocks that alternate round by round."""
    import torch

    configured = torch.get_num_threads()
    samples: dict[int, list[float]] = {n: [] for n in threads}
    try:
        for r in range(rounds + 1):  # round 0 warms up
            for n in threads:
                torch.set_num_threads(n)
                for q in queries:
                    t0 = time.perf_counter()
                    encode(q)
                    if r:
                        samples[n].append(time.perf_counter() - t0)
    finally:
        torch.set_num_threads(configured)
    return {f"{n}_thread{'s' if n > 1 else ''}": _percentiles(samples[n]) for n in threads}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", default="1,2", help="torch thread counts to time the encoder with")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    svc = KnowledgeService.build()
    load_s = time.perf_counter() - t0
    encoder = svc.searcher.encoder
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
    match_cpu: list[float] = []
    results = {
        "service_build_s": round(load_s, 2),
        "encoder_load_s": round(encoder.load_seconds or 0.0, 2) if encoder is not None else None,
        "rss_mb": _rss_mb(),
        "encoder": "sentence-transformers" if encoder is not None else None,
        "model": searcher.index.model_path,
        "queries": len(queries),
        "rounds": args.rounds,
        "fusion": searcher.fusion,
        "dense_weight": searcher.dense_weight,
        "baseline_bm25_only_rank": _percentiles(_time(bm25.rank, queries, args.rounds)),
        "hybrid_rank": _percentiles(_time(searcher.rank, queries, args.rounds)),
        "service_match": _percentiles(_time(lambda q: svc.match(q, k=3), queries, args.rounds, match_cpu)),
        # CPU time per call (all threads of this process): what a call costs on an idle core,
        # much less sensitive than wall time to other jobs on a shared machine.
        "service_match_cpu": _percentiles(match_cpu),
    }
    if encoder is not None:
        import torch

        results["torch_threads"] = torch.get_num_threads()
        results["query_encode_only"] = _percentiles(_time(encoder.encode, queries, args.rounds))
        threads = [int(n) for n in args.threads.split(",") if n.strip()]
        results["query_encode_by_threads"] = _time_threads(encoder.encode, queries, args.rounds, threads)
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
