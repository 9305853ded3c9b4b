"""Calibrated confidences (0..1) and verdicts.

For each of the top candidates of a query, a small logistic regression turns
ranking features into the probability that the candidate is the theme the
citizen means. Features (per candidate j):

- ``fused``: its fused score;
- ``gap``: its fused score minus the best other candidate's (negative below the top);
- ``lex_log``: log(1 + its raw BM25 theme score): how much text matched at all;
- ``lex_rel``: its BM25 score relative to the best theme's;
- ``dense``: its raw cosine similarity (0 when the dense side is off);
- ``dense_gap``: its cosine minus the best other candidate's cosine.

The verdict looks at the top two candidates' probabilities ``p1 >= p2``:
``p1 < t_none`` → none (not a one-thing matter); ``p1 >= t_sure`` and
``p2 < close_ratio * p1`` → sure; otherwise → ambiguous (ask which of the top
two or three is meant).

The model is fitted at build time on the dev split (in-scope queries: the gold
candidate is the positive, the others negatives; out-of-scope queries: all
negatives), thresholds are chosen on the same data (see `choose_thresholds`).
`DEFAULT` is used when no dev split is available.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

FEATURES = ("fused", "gap", "lex_log", "lex_rel", "dense", "dense_gap")
TOP_N = 5  # candidates per query used for fitting


@dataclass
class Calibrator:
    coef: list[float]
    intercept: float
    t_none: float
    t_sure: float
    close_ratio: float = 0.5  # a runner-up at >= this share of the top's probability makes it ambiguous
    fitted_on: str = "default"
    report: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Calibrator:
        return cls(**data)

    def probabilities(self, feats: np.ndarray) -> np.ndarray:
        z = feats @ np.asarray(self.coef, dtype=np.float64) + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def verdict(self, p1: float, p2: float = 0.0) -> str:
        if p1 < self.t_none:
            return "none"
        if p1 >= self.t_sure and p2 < self.close_ratio * p1:
            return "sure"
        return "ambiguous"


#: Used when the dev split is missing (fitted once on the dev split; see docs/search.md).
DEFAULT = Calibrator(
    coef=[2.0, 6.0, 1.0, 2.0, 4.0, 4.0],
    intercept=-8.0,
    t_none=0.3,
    t_sure=0.7,
)


def candidate_features(
    fused: np.ndarray, lexical: np.ndarray, dense: np.ndarray | None, idx: np.ndarray
) -> np.ndarray:
    """Feature rows (one per index in ``idx``) for candidates of one query."""
    rows = []
    lex_top = float(lexical.max()) if lexical.size else 0.0
    for j in idx:
        others = np.delete(fused, j)
        gap = float(fused[j] - others.max()) if others.size else float(fused[j])
        d = float(dense[j]) if dense is not None else 0.0
        if dense is not None and dense.size > 1:
            d_gap = float(dense[j] - np.delete(dense, j).max())
        else:
            d_gap = 0.0
        rows.append(
            [
                float(fused[j]),
                gap,
                math.log1p(max(float(lexical[j]), 0.0)),
                float(lexical[j]) / lex_top if lex_top > 0 else 0.0,
                d,
                d_gap,
            ]
        )
    return np.asarray(rows, dtype=np.float64).reshape(len(idx), len(FEATURES))


@dataclass
class Example:
    feats: np.ndarray  # (n_candidates, n_features), best candidate first
    gold: int  # index of the gold candidate among the rows, -1 if absent or out of scope
    in_scope: bool


def choose_thresholds(
    p1: np.ndarray,
    top1_ok: np.ndarray,
    top3_ok: np.ndarray,
    in_scope: np.ndarray,
    p2: np.ndarray | None = None,
    close_ratio: float = 0.5,
    sure_precision: float = 0.95,
) -> tuple[float, float, dict]:
    """Pick ``t_none`` and ``t_sure`` on labelled queries.

    ``t_none`` maximises the mean of (in-scope queries kept whose gold is in the top 3) and
    (out-of-scope queries rejected). ``t_sure`` is the lowest threshold at which the queries
    called "sure" are right (top-1 gold, and in scope) at least ``sure_precision`` of the time.
    """
    grid = np.round(np.linspace(0.02, 0.98, 97), 4)
    clear = np.ones_like(p1, dtype=bool) if p2 is None else p2 < close_ratio * p1
    n_in = max(int(in_scope.sum()), 1)
    n_out = max(int((~in_scope).sum()), 1)
    best = (-1.0, 0.5)
    for t in grid:
        kept_ok = np.sum((p1 >= t) & in_scope & top3_ok) / n_in
        rejected = np.sum((p1 < t) & ~in_scope) / n_out
        score = 0.5 * (kept_ok + rejected)
        if score > best[0] + 1e-9:
            best = (score, float(t))
    t_none = best[1]
    t_sure = 0.98
    for t in grid:
        if t < t_none:
            continue
        sure = (p1 >= t) & clear
        if sure.sum() == 0:
            break
        precision = np.sum(sure & in_scope & top1_ok) / sure.sum()
        if precision >= sure_precision:
            t_sure = float(t)
            break
    sure_final = (p1 >= max(t_sure, t_none)) & clear
    report = {
        "balanced_accuracy_none": round(float(best[0]), 4),
        "oos_rejected": round(float(np.sum((p1 < t_none) & ~in_scope) / n_out), 4),
        "in_scope_rejected": round(float(np.sum((p1 < t_none) & in_scope) / n_in), 4),
        "sure_share_in_scope": round(float(np.sum(sure_final & in_scope) / n_in), 4),
        "sure_precision": round(
            float(np.sum(sure_final & in_scope & top1_ok) / max(int(sure_final.sum()), 1)), 4
        ),
        "oos_sure": int(np.sum(sure_final & ~in_scope)),
    }
    return t_none, max(t_sure, t_none), report


def fit(examples: list[Example], fitted_on: str = "dev", sure_precision: float = 0.97) -> Calibrator:
    from sklearn.linear_model import LogisticRegression

    xs = np.vstack([e.feats for e in examples])
    ys = np.concatenate(
        [
            np.asarray([1 if (e.in_scope and i == e.gold) else 0 for i in range(len(e.feats))])
            for e in examples
        ]
    )
    model = LogisticRegression(C=1.0, max_iter=2000)
    model.fit(xs, ys)
    cal = Calibrator(
        coef=[float(c) for c in model.coef_[0]],
        intercept=float(model.intercept_[0]),
        t_none=0.5,
        t_sure=0.5,
        fitted_on=fitted_on,
    )
    probs = [np.sort(cal.probabilities(e.feats[:3]))[::-1] for e in examples]
    p1 = np.asarray([p[0] for p in probs])
    p2 = np.asarray([p[1] if len(p) > 1 else 0.0 for p in probs])
    top1 = np.asarray([e.gold == 0 for e in examples])
    top3 = np.asarray([0 <= e.gold < 3 for e in examples])
    in_scope = np.asarray([e.in_scope for e in examples])
    cal.t_none, cal.t_sure, cal.report = choose_thresholds(
        p1, top1, top3, in_scope, p2=p2, close_ratio=cal.close_ratio, sure_precision=sure_precision
    )
    cal.report["n_in_scope"] = int(in_scope.sum())
    cal.report["n_out_of_scope"] = int((~in_scope).sum())
    return cal
