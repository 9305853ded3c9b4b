"""BM25 over token lists.

`rank_bm25.BM25Okapi` computes the corpus statistics (IDF, document lengths);
its per-term weights are then laid out once in a sparse matrix so that a query
costs one sparse matrix-vector product instead of a Python loop over every
document. `scores()` returns exactly what ``BM25Okapi.get_scores`` would.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from rank_bm25 import BM25Okapi
from scipy import sparse

K1 = 1.2
B = 0.75


class LexicalIndex:
    def __init__(self, corpus: list[list[str]], k1: float = K1, b: float = B) -> None:
        self.k1 = k1
        self.b = b
        self.n_docs = len(corpus)
        # rank_bm25 divides by the corpus size; an empty token list is fine, an empty corpus is not.
        self.bm25 = BM25Okapi([doc or ["\x00"] for doc in corpus] or [["\x00"]], k1=k1, b=b)
        self.vocab: dict[str, int] = {term: i for i, term in enumerate(sorted(self.bm25.idf))}
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        avgdl = self.bm25.avgdl
        for d, (freqs, dl) in enumerate(zip(self.bm25.doc_freqs, self.bm25.doc_len, strict=True)):
            norm = k1 * (1 - b + b * dl / avgdl)
            for term, tf in freqs.items():
                rows.append(d)
                cols.append(self.vocab[term])
                vals.append(self.bm25.idf[term] * tf * (k1 + 1) / (tf + norm))
        self.matrix = sparse.csr_matrix(
            (np.asarray(vals, dtype=np.float32), (rows, cols)),
            shape=(max(self.n_docs, 1), len(self.vocab)),
        )

    def query_vector(self, tokens: list[str]) -> np.ndarray:
        vec = np.zeros(len(self.vocab), dtype=np.float32)
        for term, count in Counter(tokens).items():
            idx = self.vocab.get(term)
            if idx is not None:
                vec[idx] = count  # rank_bm25 counts a repeated query term each time
        return vec

    def scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every document (length ``n_docs``)."""
        if not tokens or not self.vocab:
            return np.zeros(self.n_docs, dtype=np.float32)
        return np.asarray(self.matrix @ self.query_vector(tokens), dtype=np.float32)[: self.n_docs]
