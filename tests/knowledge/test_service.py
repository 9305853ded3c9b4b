"""The real knowledge service over the real catalogue (builds the cached index on first run)."""

from __future__ import annotations

import os
import threading
import time

import pytest

from knowledge.service import Answer, Hit, KnowledgeService, Verdict, get_service

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def svc() -> KnowledgeService:
    return get_service()


@pytest.mark.parametrize(
    ("query", "code"),
    [("生了小孩要上户口", "43PCN0009"), ("我爸要办退休", "43PCN0013")],
)
def test_finds_the_theme_top1(svc: KnowledgeService, query: str, code: str) -> None:
    hits = svc.search(query, k=5)
    assert hits and hits[0].code == code
    answer = svc.match(query)
    assert answer.verdict is not Verdict.none
    assert answer.hits[0].code == code


def test_out_of_scope_is_rejected(svc: KnowledgeService) -> None:
    answer = svc.match("今天天气怎么样")
    assert isinstance(answer, Answer)
    assert answer.verdict is Verdict.none


def test_scores_are_calibrated_and_sorted(svc: KnowledgeService) -> None:
    hits = svc.search("社保卡丢了怎么补办", k=5)
    assert 1 <= len(hits) <= 5 and all(isinstance(h, Hit) for h in hits)
    scores = [h.score for h in hits]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores == sorted(scores, reverse=True)
    assert all(h.title == svc.get(h.code).title for h in hits)
    assert svc.search("", k=5) == [] and svc.search("退休", k=0) == []


def test_confident_match_is_sure_and_weak_is_not(svc: KnowledgeService) -> None:
    sure = svc.match("新生儿出生一件事")
    assert sure.verdict is Verdict.sure and sure.hits[0].code == "43PCN0009"
    weather = svc.search("今天天气怎么样", k=1)[0]
    assert weather.score < sure.hits[0].score


def test_get_and_themes(svc: KnowledgeService) -> None:
    theme = svc.get("43PCN0009")
    assert theme is not None and theme.title == "新生儿出生一件事"
    assert svc.get("NOPE") is None
    assert svc.get("43pcn0009") is theme and svc.get(" syx-qykb ") is svc.get("SYX-QYKB")  # typed in lower case
    codes = [t.code for t in svc.themes()]
    assert "43PCN0013" in codes and codes == sorted(codes)


def test_singleton_is_thread_safe(svc: KnowledgeService) -> None:
    seen: list[KnowledgeService] = []
    threads = [threading.Thread(target=lambda: seen.append(get_service())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(s is svc for s in seen)


def test_rebuild_from_cache_is_fast(svc: KnowledgeService) -> None:
    started = time.perf_counter()
    again = KnowledgeService.build()
    elapsed = time.perf_counter() - started
    assert again.searcher.index.key == svc.searcher.index.key
    assert elapsed < 3.0, f"loading from the cache took {elapsed:.2f} s"
