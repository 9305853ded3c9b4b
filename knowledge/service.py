"""The knowledge API used by the action server and the gateway.

    svc = get_service()
    svc.search("生了小孩要上户口")   -> [Hit(code="43PCN0009", title=..., score=0.93), ...]
    svc.match("今天天气怎么样")       -> Answer(verdict=none, hits=[...])
    svc.get("43PCN0009")             -> Theme

``Hit.score`` is a calibrated confidence in 0..1 that this theme is the one the
citizen means (see `knowledge.search.calibration`). ``match`` adds a verdict:
``sure`` (go ahead with hits[0]), ``ambiguous`` (ask which of the hits, two or
three), ``none`` (not a one-thing matter; the hits are weak and only informative).
"""

from __future__ import annotations

import logging
import threading
import time
from enum import Enum
from pathlib import Path

from pydantic import BaseModel

from knowledge import config
from knowledge.models import Theme
from knowledge.search.index import Searcher, SearchIndex, build_index, load_or_fit_calibration
from knowledge.search.text import Tokenizer

log = logging.getLogger(__name__)

#: An ambiguous answer offers at most this many candidates.
AMBIGUOUS_MAX = 3
#: …and only those whose confidence is at least this share of the best one's.
AMBIGUOUS_RATIO = 0.25


class Hit(BaseModel):
    code: str
    title: str
    score: float  # calibrated 0..1, best first


class Verdict(str, Enum):
    sure = "sure"
    ambiguous = "ambiguous"
    none = "none"


class Answer(BaseModel):
    verdict: Verdict
    hits: list[Hit]  # the top candidates (<= k)


class KnowledgeService:
    def __init__(self, themes: dict[str, Theme], searcher: Searcher) -> None:
        self._themes = dict(themes)
        self.searcher = searcher

    @classmethod
    def build(
        cls,
        themes: dict[str, Theme] | None = None,
        *,
        cache: Path | None = None,
        dense: bool | None = None,
        train: bool = False,
        calibrate: bool = True,
    ) -> KnowledgeService:
        if themes is None:
            from knowledge.store import load_catalogue

            themes = load_catalogue()
        tokenizer = Tokenizer()
        index: SearchIndex = build_index(themes, cache=cache, tokenizer=tokenizer, dense=dense, train=train)
        searcher = Searcher(index, tokenizer)
        if calibrate:
            searcher.calibrator = load_or_fit_calibration(searcher, cache)
        return cls(themes, searcher)

    def _hits(self, query: str, k: int) -> list[Hit]:
        if k <= 0 or not query or not query.strip():
            return []
        ranked = self.searcher.rank(query)
        n = min(k, len(ranked.order))
        probs = self.searcher.probabilities(ranked, n)
        hits = []
        ceiling = 1.0
        for i, p in zip(ranked.order[:n], probs, strict=True):
            # The fused order ranks better than the per-candidate probabilities do (dev split), so the
            # order stays fused and a lower-ranked hit's score is capped at the one above it.
            ceiling = min(ceiling, float(p))
            code = self.searcher.index.codes[int(i)]
            hits.append(Hit(code=code, title=self._themes[code].title, score=round(ceiling, 4)))
        return hits

    def search(self, query: str, k: int = 5) -> list[Hit]:
        return self._hits(query, k)

    def match(self, query: str, k: int = 3) -> Answer:
        hits = self._hits(query, max(k, 1))
        if not hits:
            return Answer(verdict=Verdict.none, hits=[])
        p2 = hits[1].score if len(hits) > 1 else 0.0
        verdict = Verdict(self.searcher.calibrator.verdict(hits[0].score, p2))
        if verdict is Verdict.ambiguous:
            floor = hits[0].score * AMBIGUOUS_RATIO
            close = [h for h in hits[:AMBIGUOUS_MAX] if h.score >= floor]
            hits = close if len(close) >= 2 else hits[: min(2, len(hits))]
        return Answer(verdict=verdict, hits=hits[:k])

    def resolve(self, text: str, *, title: str | None = None):  # -> knowledge.resolve.Resolution
        """The one decision for a citizen's message (``knowledge.resolve``): sure / choose / guess /
        two_things / not_a_thing / none, with the themes to show and the reason."""
        from knowledge.resolve import resolve

        return resolve(text, self, title=title)

    def get(self, code: str) -> Theme | None:
        """The theme with this official code; codes are matched case-insensitively (43pcn0009)."""
        return self._themes.get(code) or self._themes.get(code.strip().upper())

    def themes(self) -> list[Theme]:
        return [self._themes[c] for c in sorted(self._themes)]


_service: KnowledgeService | None = None
_lock = threading.Lock()


def get_service() -> KnowledgeService:
    """The process-wide service, built on first use (thread-safe; reuses the cached index)."""
    global _service
    if _service is None:
        with _lock:
            if _service is None:
                config.ensure_offline()
                started = time.perf_counter()
                _service = KnowledgeService.build()
                log.info("knowledge service ready in %.2f s", time.perf_counter() - started)
    return _service


def reset_service() -> None:
    """Forget the singleton (tests, or after the catalogue changed)."""
    global _service
    with _lock:
        _service = None
