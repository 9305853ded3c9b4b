"""The real search meets the issue's bar on the held-out test split.

Slow (builds or loads the search index); marked ``quality``. Skipped only while
``knowledge.service`` cannot be imported.
"""

from __future__ import annotations

import os

import pytest

from knowledge.eval.runner import (
    format_report,
    load_queries,
    metrics_by_tag,
    ranking_metrics,
    run_queries,
    worst_misses,
)

TOP1_BAR = 0.90
TOP3_BAR = 0.97

pytestmark = pytest.mark.quality


@pytest.fixture(scope="module")
def service():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from knowledge.service import get_service
    except ImportError as exc:  # the service is written in parallel; skip until it exists
        pytest.skip(f"knowledge.service cannot be imported yet: {exc}")
    return get_service()


def test_test_split_meets_the_bar(service) -> None:
    results = run_queries(load_queries("test"), service.search, k=5)
    m = ranking_metrics(results)
    titles = {t.code: t.title for t in service.themes()}
    detail = "\n".join(
        f"  rank {r.rank}  {r.q}  gold={r.gold} {titles.get(r.gold, '')}  got={list(r.codes[:3])}"
        for r in worst_misses(results)
    )
    tags = ", ".join(f"{t} {v.top1:.2f}/{v.top3:.2f}" for t, v in metrics_by_tag(results).items())
    summary = (
        f"test top-1 {m.top1:.3f} (bar {TOP1_BAR}), top-3 {m.top3:.3f} (bar {TOP3_BAR}), MRR {m.mrr:.3f}"
    )
    message = f"{summary}\nper tag top-1/top-3: {tags}\nworst misses:\n{detail}"
    assert m.top1 >= TOP1_BAR and m.top3 >= TOP3_BAR, message


def test_report_renders_for_the_real_service(service) -> None:
    from knowledge.eval.runner import evaluate, load_out_of_scope

    report = evaluate(
        service.search, service.match, load_queries("dev")[:20], load_out_of_scope("dev")[:10], k=5
    )
    assert report.by_split["all"].n == 20
    assert "worst misses" in format_report(report)
