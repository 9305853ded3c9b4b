"""Query latency of the knowledge search (p50 / p95 / p99), with a BM25-only baseline from the same run.

    .venv/app/bin/python bench/search_latency.py [--rounds 3] [--threads 1,2] [--modes none,int8] [--json out.json]

Queries: the dev split (in-scope + out-of-scope) of knowledge/eval. The index must be buildable
(it is built or loaded from KNOWLEDGE_CACHE_DIR first). Start-up is reported, not measured per
query: the service build (which waits for the sentence-transformers model, loaded in a background
thread meanwhile: ``encoder_load_s``) and the process's resident memory afterwards.
Each query is run once untimed to warm up, then ``--rounds`` times. ``service_match_cpu`` is the
CPU time per `match()` call: what it costs on an idle core (on a machine shared with other jobs
the wall time is higher). The query encoder alone is also timed with each torch thread count of
``--threads``, in alternating blocks (the service itself runs with KNOWLEDGE_TORCH_THREADS).

Quantisation: one service is built per mode of ``--modes`` (default: float ``none`` and ``int8``,
each with its own document embeddings and calibration, as ``KNOWLEDGE_EMBED_QUANTIZE`` would give),
and `match()` and the query encoder are timed for all of them in blocks that alternate round by
round, so each mode's figures come from the same minutes (``by_quantize``). The top-level keys
(``service_match``, ``query_encode_only``, …) are those of the configured mode
(``KNOWLEDGE_EMBED_QUANTIZE``, key ``quantize``), and so is the final "p95 of match()" line.
``quantize_agreement``: each other mode's query vectors against the float ones (cosine) and how
often `match()` gives the same verdict and top-1 hit.
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

from knowledge import config  # noqa: E402
from knowledge.search.index import Searcher, dense_text, load_dev_split  # noqa: E402
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
    """Wall-clock seconds per call of one function (after one untimed warm-up pass)."""
    return _time_alternating({"fn": fn}, queries, rounds)["fn"]


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


def _time_alternating(
    fns: dict[str, object], queries: list[str], rounds: int, cpu: dict[str, list[float]] | None = None
) -> dict[str, list[float]]:
    """Wall-clock seconds per call of each function, in blocks (all queries) alternating round by round.

    Round 0 warms every function up untimed. With ``cpu``, the process's CPU seconds per call too.
    """
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for r in range(rounds + 1):
        for name, fn in fns.items():
            for q in queries:
                c0 = time.process_time()
                t0 = time.perf_counter()
                fn(q)  # type: ignore[operator]
                wall = time.perf_counter() - t0
                if r:
                    samples[name].append(wall)
                    if cpu is not None:
                        cpu.setdefault(name, []).append(time.process_time() - c0)
    return samples


def _build_service(quantize: str) -> tuple[KnowledgeService, float]:
    """A service whose index, encoder and calibration use this quantisation mode (seconds to build)."""
    saved = os.environ.get("KNOWLEDGE_EMBED_QUANTIZE")
    os.environ["KNOWLEDGE_EMBED_QUANTIZE"] = quantize
    try:
        t0 = time.perf_counter()
        svc = KnowledgeService.build()
        return svc, time.perf_counter() - t0
    finally:
        if saved is None:
            os.environ.pop("KNOWLEDGE_EMBED_QUANTIZE", None)
        else:
            os.environ["KNOWLEDGE_EMBED_QUANTIZE"] = saved


def _agreement(reference: KnowledgeService, other: KnowledgeService, queries: list[str]) -> dict[str, float]:
    """Query-vector cosines of ``other`` against ``reference`` and agreement of their `match()` answers."""
    cosines = []
    same_top1 = same_verdict = 0
    for q in queries:
        text = dense_text(q)
        cosines.append(float(reference.searcher.encoder.encode(text) @ other.searcher.encoder.encode(text)))
        a, b = reference.match(q, k=3), other.match(q, k=3)
        same_verdict += a.verdict == b.verdict
        same_top1 += (a.hits[0].code if a.hits else None) == (b.hits[0].code if b.hits else None)
    arr = np.asarray(cosines)
    return {
        "queries": len(queries),
        "cosine_min": round(float(arr.min()), 4),
        "cosine_p5": round(float(np.percentile(arr, 5)), 4),
        "cosine_mean": round(float(arr.mean()), 4),
        "same_top1": same_top1,
        "same_verdict": same_verdict,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", default="1,2", help="torch thread counts to time the encoder with")
    parser.add_argument(
        "--modes", default="none,int8", help="KNOWLEDGE_EMBED_QUANTIZE modes to time side by side (with dense search)"
    )
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)
    configured = config.embed_quantize()

    t0 = time.perf_counter()
    svc = KnowledgeService.build()
    load_s = time.perf_counter() - t0
    rss_mb = _rss_mb()  # with the configured mode's model only
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
    results: dict[str, object] = {
        "service_build_s": round(load_s, 2),
        "encoder_load_s": round(encoder.load_seconds or 0.0, 2) if encoder is not None else None,
        "rss_mb": rss_mb,
        "encoder": "sentence-transformers" if encoder is not None else None,
        "model": searcher.index.model_path,
        "quantize": searcher.index.quantize if encoder is not None else None,
        "queries": len(queries),
        "rounds": args.rounds,
        "fusion": searcher.fusion,
        "dense_weight": searcher.dense_weight,
        "load_average_before": list(os.getloadavg()),
        "baseline_bm25_only_rank": _percentiles(_time(bm25.rank, queries, args.rounds)),
        "hybrid_rank": _percentiles(_time(searcher.rank, queries, args.rounds)),
    }
    # One service per quantisation mode (the configured one first); without dense search, just it.
    modes = [configured] if encoder is None else [configured] + [
        m.strip() for m in args.modes.split(",") if m.strip() and m.strip() != configured
    ]
    services = {configured: svc}
    builds = {configured: load_s}
    for mode in modes[1:]:
        services[mode], builds[mode] = _build_service(mode)
    match_cpu: dict[str, list[float]] = {}
    match_wall = _time_alternating(
        {m: (lambda q, s=s: s.match(q, k=3)) for m, s in services.items()}, queries, args.rounds, match_cpu
    )
    results["service_match"] = _percentiles(match_wall[configured])
    # CPU time per call (all threads of this process): what a call costs on an idle core,
    # much less sensitive than wall time to other jobs on a shared machine.
    results["service_match_cpu"] = _percentiles(match_cpu[configured])
    if encoder is not None:
        import torch

        results["torch_threads"] = torch.get_num_threads()
        encode_wall = _time_alternating(
            {m: s.searcher.encoder.encode for m, s in services.items()}, queries, args.rounds
        )
        results["query_encode_only"] = _percentiles(encode_wall[configured])
        threads = [int(n) for n in args.threads.split(",") if n.strip()]
        results["query_encode_by_threads"] = _time_threads(encoder.encode, queries, args.rounds, threads)
        results["by_quantize"] = {
            m: {
                "service_build_s": round(builds[m], 2),
                "encoder_load_s": round(services[m].searcher.encoder.load_seconds or 0.0, 2),
                "service_match": _percentiles(match_wall[m]),
                "service_match_cpu": _percentiles(match_cpu[m]),
                "query_encode_only": _percentiles(encode_wall[m]),
            }
            for m in modes
        }
        if "none" in services:
            results["quantize_agreement"] = {
                m: _agreement(services["none"], services[m], queries) for m in modes if m != "none"
            }
    results["load_average_after"] = list(os.getloadavg())
    print(json.dumps(results, ensure_ascii=False, indent=1))
    if "by_quantize" in results:
        print("match() and query encoding, same run, alternating blocks:")
        for m, fig in results["by_quantize"].items():  # type: ignore[union-attr]
            sm, qe = fig["service_match"], fig["query_encode_only"]
            print(
                f"  {m:>5}: match p50 {sm['p50_ms']} / p95 {sm['p95_ms']} / p99 {sm['p99_ms']} ms;"
                f" encode p50 {qe['p50_ms']} / p95 {qe['p95_ms']} / p99 {qe['p99_ms']} ms"
            )
    print(f"configured KNOWLEDGE_EMBED_QUANTIZE: {configured}; load average {results['load_average_after']}")
    target = results["service_match"]["p95_ms"] <= 15.0
    print(
        f"p95 of match(): {results['service_match']['p95_ms']} ms (target <= 15 ms: {'met' if target else 'NOT met'})"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
