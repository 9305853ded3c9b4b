"""Per-theme aggregation of document scores and fusion of the two rankers.

Each theme has several documents (its title, each phrasing, each sub-matter
name, each FAQ question, …). A ranker's theme score is the maximum over the
theme's documents of ``field_weight * document_score``.

Two ways to combine the lexical and dense theme scores:
- ``score``: each ranker's scores are normalised per query (lexical: divided by
  the best theme's score; dense: min-max over themes) and mixed with weight ``w``
  for the dense side;
- ``rrf``: reciprocal rank fusion, ``sum 1 / (k + rank)``.
"""

from __future__ import annotations

import numpy as np

RRF_K = 60.0


def aggregate(doc_scores: np.ndarray, doc_weight: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Max over each theme's documents of weighted scores; documents are grouped by theme.

    ``starts[i]`` is the index of theme i's first document (every theme has at least one).
    Documents with weight 0 are left out.
    """
    weighted = np.where(doc_weight > 0, doc_scores * doc_weight, -np.inf)
    out = np.maximum.reduceat(weighted, starts)
    return np.where(np.isfinite(out), out, 0.0).astype(np.float32)


def normalise_lexical(scores: np.ndarray) -> np.ndarray:
    top = float(scores.max()) if scores.size else 0.0
    return scores / top if top > 0 else np.zeros_like(scores)


def normalise_dense(scores: np.ndarray) -> np.ndarray:
    if not scores.size:
        return scores
    lo, hi = float(scores.min()), float(scores.max())
    return (scores - lo) / (hi - lo) if hi > lo else np.zeros_like(scores)


def score_fusion(lexical: np.ndarray, dense: np.ndarray | None, dense_weight: float) -> np.ndarray:
    lex = normalise_lexical(lexical)
    if dense is None or dense_weight <= 0:
        return lex
    return (1.0 - dense_weight) * lex + dense_weight * normalise_dense(dense)


def _ranks(scores: np.ndarray) -> np.ndarray:
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty_like(order)
    ranks[order] = np.arange(1, len(scores) + 1)
    return ranks


def rrf_fusion(
    lexical: np.ndarray, dense: np.ndarray | None, dense_weight: float, k: float = RRF_K
) -> np.ndarray:
    """Weighted RRF, rescaled so that a theme ranked first by both rankers scores 1."""
    lex = 1.0 / (k + _ranks(lexical))
    # A ranker that scores everything 0 has no opinion: it contributes nothing.
    if not np.any(lexical > 0):
        lex = np.zeros_like(lex, dtype=np.float64)
    if dense is None or dense_weight <= 0:
        return (lex * (k + 1)).astype(np.float32)
    den = 1.0 / (k + _ranks(dense))
    fused = (1.0 - dense_weight) * lex + dense_weight * den
    return (fused * (k + 1)).astype(np.float32)


def fuse(method: str, lexical: np.ndarray, dense: np.ndarray | None, dense_weight: float) -> np.ndarray:
    if method == "rrf":
        return rrf_fusion(lexical, dense, dense_weight)
    return score_fusion(lexical, dense, dense_weight).astype(np.float32)
