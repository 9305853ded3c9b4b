"""``python -m knowledge search "<query>" [-k N]`` and ``python -m knowledge build-index``."""

from __future__ import annotations

import sys
import time

from knowledge import config


def run_search(query: str, k: int = 5) -> int:
    config.ensure_offline()
    from knowledge.service import get_service

    svc = get_service()
    answer = svc.match(query, k=k)
    hits = svc.search(query, k=k)
    print(f"查询：{query}")
    print(f"判断：{answer.verdict.value}")
    if not hits:
        print("（没有结果）")
    for i, hit in enumerate(hits, start=1):
        print(f"{i}. {hit.title}  [{hit.code}]  {hit.score:.3f}")
    return 0


def run_build_index() -> int:
    """Build (or reuse) everything the service needs: fine-tuned model (if enabled), index, calibration."""
    config.ensure_offline()
    from knowledge.service import KnowledgeService

    started = time.perf_counter()
    try:
        svc = KnowledgeService.build(train=True)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    index = svc.searcher.index
    cal = svc.searcher.calibrator
    print(f"themes: {len(index.codes)}  documents: {len(index.docs)}  index: {index.key}")
    print(f"model: {index.model_path or '(dense side off)'}")
    print(f"fusion: {svc.searcher.fusion}  dense weight: {svc.searcher.dense_weight}")
    print(f"calibration: fitted on {cal.fitted_on}; t_none={cal.t_none} t_sure={cal.t_sure} {cal.report}")
    print(f"cache: {config.cache_dir()}  ({time.perf_counter() - started:.1f} s)")
    return 0
