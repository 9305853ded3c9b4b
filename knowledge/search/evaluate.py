"""Compare retrieval variants on the dev split (never the test split).

    .venv/app/bin/python -m knowledge.search.evaluate [--finetuned]

Prints top-1 / top-3 / MRR for BM25 only, dense only, score fusion and RRF at a
few dense weights, and out-of-scope rejection for the shipped settings (with the
calibration fitted on that same dev split, so that figure is optimistic; see
``python -m knowledge.eval --split test`` for held-out figures).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from knowledge import config
from knowledge.search import calibration as calib
from knowledge.search.index import Searcher, build_index, calibration_examples, load_dev_split
from knowledge.search.text import Tokenizer


def ranking_metrics(searcher: Searcher, labelled: list[tuple[str, str | None]]) -> dict[str, float]:
    top1 = top3 = rr = 0.0
    n = 0
    for query, gold in labelled:
        if gold is None:
            continue
        n += 1
        order = [searcher.index.codes[i] for i in searcher.rank(query).order]
        rank = order.index(gold) + 1 if gold in order else None
        if rank:
            top1 += rank == 1
            top3 += rank <= 3
            rr += 1.0 / rank
    return {"n": n, "top1": top1 / n, "top3": top3 / n, "mrr": rr / n}


def cross_validated_verdicts(
    searcher: Searcher, labelled: list[tuple[str, str | None]], folds: int = 5
) -> dict:
    """Verdict figures with the calibration fitted on 4/5 of the dev split and judged on the rest."""
    examples = calibration_examples(searcher, labelled)
    rng = np.random.default_rng(0)
    fold_of = rng.integers(0, folds, len(examples))
    counts = {
        "oos": 0,
        "oos_rejected": 0,
        "oos_sure": 0,
        "in": 0,
        "in_rejected": 0,
        "sure": 0,
        "sure_right": 0,
        "ambiguous": 0,
        "ambiguous_top3": 0,
    }
    for f in range(folds):
        train = [e for e, g in zip(examples, fold_of, strict=True) if g != f]
        cal = calib.fit(train)
        for e, g in zip(examples, fold_of, strict=True):
            if g != f:
                continue
            probs = sorted(cal.probabilities(e.feats[:3]), reverse=True) + [0.0]
            verdict = cal.verdict(float(probs[0]), float(probs[1]))
            if not e.in_scope:
                counts["oos"] += 1
                counts["oos_rejected"] += verdict == "none"
                counts["oos_sure"] += verdict == "sure"
                continue
            counts["in"] += 1
            counts["in_rejected"] += verdict == "none"
            if verdict == "sure":
                counts["sure"] += 1
                counts["sure_right"] += e.gold == 0
            if verdict == "ambiguous":
                counts["ambiguous"] += 1
                counts["ambiguous_top3"] += 0 <= e.gold < 3
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m knowledge.search.evaluate")
    parser.add_argument("--weights", default="0.1,0.2,0.3,0.4,0.5,0.7")
    parser.add_argument("--train", action="store_true", help="fine-tune now if enabled and not cached")
    args = parser.parse_args(argv)
    config.ensure_offline()
    from knowledge.store import load_catalogue

    themes = load_catalogue()
    tok = Tokenizer()
    t0 = time.perf_counter()
    index = build_index(themes, tokenizer=tok, dense=True, train=args.train)
    print(f"index ready in {time.perf_counter() - t0:.1f} s; model {index.model_path}")
    labelled = load_dev_split()
    base = Searcher(index, tok, fusion="score", dense_weight=0.0)
    rows: list[tuple[str, dict]] = [("bm25 only", ranking_metrics(base, labelled))]
    dense_only = Searcher(index, tok, fusion="score", dense_weight=1.0, encoder=base.encoder)
    rows.append(("dense only", ranking_metrics(dense_only, labelled)))
    for method in ("score", "rrf"):
        for w in (float(x) for x in args.weights.split(",")):
            s = Searcher(index, tok, fusion=method, dense_weight=w, encoder=base.encoder)
            rows.append((f"{method} w={w:.2f}", ranking_metrics(s, labelled)))
    print(f"{'variant':<16} {'n':>4} {'top1':>6} {'top3':>6} {'mrr':>6}")
    for name, m in rows:
        print(f"{name:<16} {m['n']:>4} {m['top1']:6.3f} {m['top3']:6.3f} {m['mrr']:6.3f}")
    shipped = Searcher(index, tok, encoder=base.encoder)
    print(f"\nshipped: fusion={shipped.fusion} dense_weight={shipped.dense_weight}")
    print("verdicts, 5-fold cross-validated on dev:", cross_validated_verdicts(shipped, labelled))
    return 0


if __name__ == "__main__":
    sys.exit(main())
