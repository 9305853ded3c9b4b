"""The figures of issue #13 on the realistic set: what people actually see.

``python -m knowledge.eval.real --eval [--split dev|test] [--baseline] [--json PATH]``

Two systems are measured on the same messages:

- **baseline**: the knowledge service's ``match`` verdict as the actions rendered it before
  ``knowledge.resolve`` (sure -> the guide; ambiguous -> choose; none with a best hit >= 0.3 ->
  a guess with the hits >= half the best; else "not sure"). It never recognises a complaint,
  a suggestion or a question, and never opens the 办不成事 form (that came from the NLU).
- **resolve**: ``knowledge.resolve.resolve``. On the dev split the kind classifier is cross-fitted
  (5 folds: each message is judged by a model trained without its fold), so dev figures are not
  in-sample; on the test split the classifier is the shipped one (trained on dev only).

Figures (per split): (a) a confident answer (sure / two things) naming a one thing not in the
label, % of all messages (target <= 2 %); (b) complaints, reports and suggestions recognised as
such (>= 90 %; strict: complaint as complaint/consumer, suggestion as suggestion; lenient: either
of the three); (c) where a one thing fits, it is among the reply's themes (top 3) (>= 95 %); (d)
办不成事 predicted for a message that is not 办不成事, % of those messages (<= 1 %); plus a
confusion table (gold label x outcome).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from knowledge.eval.real import LABELS, RealMessage

#: The baseline's action-side thresholds as they were (actions/config.py guess_min, find_thing.py).
BASELINE_GUESS_MIN = 0.3
BASELINE_GUESS_RATIO = 0.5
BASELINE_MAX = 3

OUTCOMES = (
    "sure",
    "two_things",
    "choose",
    "guess",
    "complaint",
    "consumer",
    "suggestion",
    "question",
    "bancheng",
    "chitchat",
    "none",
)
SHOWING = ("sure", "two_things", "choose", "guess")
CONFIDENT = ("sure", "two_things")

TARGETS = {
    "a_confident_wrong": 0.02,
    "b_complaint_suggestion": 0.90,
    "c_thing_top3": 0.95,
    "d_bancheng_wrong": 0.01,
}


@dataclass(frozen=True)
class Outcome:
    """What the reply is: an outcome name (OUTCOMES) and the themes it shows, best first."""

    outcome: str
    themes: tuple[str, ...] = ()
    reason: str = ""


@dataclass
class Figures:
    n: int
    a_confident_wrong: float
    a_count: int
    b_complaint_suggestion: float  # lenient
    b_strict: float
    b_n: int
    c_thing_top3: float  # over messages whose label is thing
    c_n: int
    c_all_fits: float  # over every message where a one thing fits (label or also)
    c_all_n: int
    d_bancheng_wrong: float
    d_count: int
    bancheng_recall: float
    question_recognised: float
    outcomes: dict[str, int] = field(default_factory=dict)
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)
    confident_wrong_ids: list[str] = field(default_factory=list)
    missed_things: list[str] = field(default_factory=list)
    bancheng_wrong_ids: list[str] = field(default_factory=list)

    def meets(self) -> dict[str, bool]:
        return {
            "a_confident_wrong": self.a_confident_wrong <= TARGETS["a_confident_wrong"],
            "b_complaint_suggestion": self.b_complaint_suggestion >= TARGETS["b_complaint_suggestion"],
            "c_thing_top3": self.c_thing_top3 >= TARGETS["c_thing_top3"],
            "d_bancheng_wrong": self.d_bancheng_wrong <= TARGETS["d_bancheng_wrong"],
        }


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


def figures(messages: Sequence[RealMessage], outcomes: Sequence[Outcome]) -> Figures:
    n = len(messages)
    confusion = {label: Counter() for label in LABELS}
    a_ids, missed, d_ids = [], [], []
    b_ok = b_strict = b_n = 0
    c_ok = c_n = c_all_ok = c_all_n = 0
    banc_ok = banc_n = q_ok = q_n = 0
    for m, o in zip(messages, outcomes, strict=True):
        confusion[m.label][o.outcome] += 1
        if o.outcome in CONFIDENT and any(
            code not in m.things for code in o.themes[: 2 if o.outcome == "two_things" else 1]
        ):
            a_ids.append(m.id)
        if m.label in ("complaint", "suggestion"):
            b_n += 1
            b_ok += o.outcome in ("complaint", "consumer", "suggestion")
            b_strict += (m.label == "complaint" and o.outcome in ("complaint", "consumer")) or (
                m.label == "suggestion" and o.outcome == "suggestion"
            )
        shown = o.themes[:3] if o.outcome in SHOWING else ()
        if m.things:
            c_all_n += 1
            hit = any(code in m.things for code in shown)
            c_all_ok += hit
            if m.label == "thing":
                c_n += 1
                c_ok += hit
                if not hit:
                    missed.append(m.id)
        if m.label == "bancheng":
            banc_n += 1
            banc_ok += o.outcome == "bancheng"
        elif o.outcome == "bancheng":
            d_ids.append(m.id)
        if m.label == "question":
            q_n += 1
            q_ok += o.outcome == "question"
    non_banc = n - banc_n
    return Figures(
        n=n,
        a_confident_wrong=_ratio(len(a_ids), n),
        a_count=len(a_ids),
        b_complaint_suggestion=_ratio(b_ok, b_n),
        b_strict=_ratio(b_strict, b_n),
        b_n=b_n,
        c_thing_top3=_ratio(c_ok, c_n),
        c_n=c_n,
        c_all_fits=_ratio(c_all_ok, c_all_n),
        c_all_n=c_all_n,
        d_bancheng_wrong=_ratio(len(d_ids), non_banc),
        d_count=len(d_ids),
        bancheng_recall=_ratio(banc_ok, banc_n),
        question_recognised=_ratio(q_ok, q_n),
        outcomes=dict(Counter(o.outcome for o in outcomes)),
        confusion={label: {k: row[k] for k in OUTCOMES if row[k]} for label, row in confusion.items()},
        confident_wrong_ids=a_ids,
        missed_things=missed,
        bancheng_wrong_ids=d_ids,
    )


# --------------------------------------------------------------------------- the two systems


def baseline_outcome(answer: Any) -> Outcome:
    """The knowledge service's ``match`` answer as the actions rendered it before resolve()."""
    verdict = str(getattr(answer.verdict, "value", answer.verdict))
    hits = list(answer.hits)
    if verdict == "sure" and hits:
        return Outcome("sure", (hits[0].code,))
    if verdict == "ambiguous" and hits:
        return Outcome("choose", tuple(h.code for h in hits[:BASELINE_MAX]))
    if hits and hits[0].score >= BASELINE_GUESS_MIN:
        floor = hits[0].score * BASELINE_GUESS_RATIO
        return Outcome("guess", tuple(h.code for h in hits[:BASELINE_MAX] if h.score >= floor))
    return Outcome("none")


def resolution_outcome(res: Any) -> Outcome:
    verdict = str(getattr(res.verdict, "value", res.verdict))
    codes = tuple(t.code for t in res.themes)
    if verdict == "not_a_thing":
        kind = str(getattr(res.kind, "value", res.kind))
        return Outcome("bancheng" if kind == "bancheng_candidate" else kind, (), res.reason)
    return Outcome(verdict, codes, res.reason)


def fold_of(ident: str, folds: int = 5) -> int:
    return int(hashlib.sha256(f"fold:{ident}".encode()).hexdigest(), 16) % folds


def run_baseline(messages: Sequence[RealMessage], service: Any) -> list[Outcome]:
    return [baseline_outcome(service.match(m.full_text, k=BASELINE_MAX)) for m in messages]


def analyses(messages: Sequence[RealMessage], service: Any, split: str, folds: int = 5) -> list[Any]:
    """``resolve.analyse`` for every message; on dev with a cross-fitted classifier."""
    from knowledge import resolve as rs

    if split == "dev":
        dev_ids = [m.id for m in messages]
        models = {}
        for f in range(folds):
            held = [i for i in dev_ids if fold_of(i, folds) == f]
            models[f] = rs.KindModel(rs.training_examples(exclude_ids=held))
        pick: Callable[[RealMessage], Any] = lambda m: models[fold_of(m.id, folds)]  # noqa: E731
    else:
        shipped = rs.kind_model()
        pick = lambda m: shipped  # noqa: E731
    return [rs.analyse(m.text, service, title=m.title, model=pick(m)) for m in messages]


def run_resolve(analysed: Sequence[Any], service: Any, params: Any = None) -> list[Outcome]:
    from knowledge import resolve as rs

    titles = {t.code: t.title for t in service.themes()}
    params = params or rs.PARAMS
    return [resolution_outcome(rs.decide(a, titles, params)) for a in analysed]


# --------------------------------------------------------------------------- catalogue eval via resolve


@dataclass
class CatalogueFigures:
    split: str
    in_scope: int
    sure_right: float  # in-scope answered sure with the gold theme
    shown_top3: float  # gold among the themes the reply shows
    confident_wrong: int  # in-scope answered sure with another theme
    oos: int
    oos_rejected: float  # out-of-scope shown no theme (not sure/choose/guess/two)


def catalogue_figures(split: str, outcome_of: Callable[[str], Outcome]) -> CatalogueFigures:
    from knowledge.eval import runner

    qs = runner.load_queries(split)
    oos = runner.load_out_of_scope(split)
    sure_right = top3 = wrong = 0
    for q in qs:
        o = outcome_of(q.q)
        sure_right += o.outcome in CONFIDENT and o.themes[:1] == (q.code,)
        wrong += o.outcome in CONFIDENT and o.themes[:1] != (q.code,)
        top3 += o.outcome in SHOWING and q.code in o.themes[:3]
    rejected = sum(outcome_of(q.q).outcome not in SHOWING for q in oos)
    return CatalogueFigures(
        split=split,
        in_scope=len(qs),
        sure_right=_ratio(sure_right, len(qs)),
        shown_top3=_ratio(top3, len(qs)),
        confident_wrong=wrong,
        oos=len(oos),
        oos_rejected=_ratio(rejected, len(oos)),
    )


# --------------------------------------------------------------------------- printing


def _pct(x: float) -> str:
    return f"{100 * x:5.1f} %"


def format_figures(name: str, f: Figures) -> str:
    ok = f.meets()
    mark = {True: "ok", False: "MISSED"}
    lines = [
        f"== {name} ({f.n} messages)",
        f"(a) confident answer naming a one thing not in the label: {_pct(f.a_confident_wrong)} ({f.a_count})"
        f"   target <= 2 %   {mark[ok['a_confident_wrong']]}",
        f"(b) complaints/reports/suggestions recognised: {_pct(f.b_complaint_suggestion)} of {f.b_n}"
        f" (strict {_pct(f.b_strict)})   target >= 90 %   {mark[ok['b_complaint_suggestion']]}",
        f"(c) a fitting one thing among the reply's top 3: {_pct(f.c_thing_top3)} of {f.c_n} 'thing' messages"
        f" (all {f.c_all_n} with a fitting thing: {_pct(f.c_all_fits)})   target >= 95 %   {mark[ok['c_thing_top3']]}",
        f"(d) 办不成事 for a message that is not: {_pct(f.d_bancheng_wrong)} ({f.d_count})"
        f"   target <= 1 %   {mark[ok['d_bancheng_wrong']]}",
        f"    办不成事 recognised: {_pct(f.bancheng_recall)}; policy questions recognised: {_pct(f.question_recognised)}",
        "",
        "confusion (gold label x outcome):",
        f"{'':<11}" + "".join(f"{o[:8]:>9}" for o in OUTCOMES),
    ]
    for label, row in f.confusion.items():
        lines.append(f"{label:<11}" + "".join(f"{row.get(o, 0):>9}" for o in OUTCOMES))
    if f.confident_wrong_ids:
        lines.append(f"confident wrong: {', '.join(f.confident_wrong_ids[:40])}")
    if f.missed_things:
        lines.append(f"'thing' not shown: {', '.join(f.missed_things[:40])}")
    if f.bancheng_wrong_ids:
        lines.append(f"办不成事 wrongly: {', '.join(f.bancheng_wrong_ids)}")
    return "\n".join(lines)


def format_catalogue(name: str, c: CatalogueFigures) -> str:
    return (
        f"{name} catalogue {c.split}: in-scope {c.in_scope}: sure & right {_pct(c.sure_right)}, "
        f"gold shown (top 3) {_pct(c.shown_top3)}, sure & wrong {c.confident_wrong}; "
        f"out-of-scope {c.oos}: no theme shown {_pct(c.oos_rejected)}"
    )


def evaluate(split: str, baseline: bool = True, catalogue: bool = True) -> dict[str, Any]:
    from knowledge import resolve as rs
    from knowledge.eval.real import load_messages
    from knowledge.service import get_service

    service = get_service()
    messages = load_messages(split=split)
    out: dict[str, Any] = {"split": split}
    if baseline:
        out["baseline"] = figures(messages, run_baseline(messages, service))
    analysed = analyses(messages, service, split)
    out["resolve"] = figures(messages, run_resolve(analysed, service))
    if catalogue:
        if baseline:
            out["catalogue_baseline"] = catalogue_figures(
                split, lambda q: baseline_outcome(service.match(q, k=BASELINE_MAX))
            )
        out["catalogue_resolve"] = catalogue_figures(
            split, lambda q: resolution_outcome(rs.resolve(q, service))
        )
    return out


def format_report(result: dict[str, Any]) -> str:
    parts = []
    split = result["split"]
    if "baseline" in result:
        parts.append(format_figures(f"baseline (match as rendered) on {split}", result["baseline"]))
    parts.append(format_figures(f"resolve() on {split}", result["resolve"]))
    if "catalogue_baseline" in result:
        parts.append(format_catalogue("baseline", result["catalogue_baseline"]))
    if "catalogue_resolve" in result:
        parts.append(format_catalogue("resolve ", result["catalogue_resolve"]))
    return "\n\n".join(parts)


def to_json(result: dict[str, Any]) -> str:
    return json.dumps(
        {k: (asdict(v) if hasattr(v, "__dataclass_fields__") else v) for k, v in result.items()},
        ensure_ascii=False,
        indent=2,
    )


def calibrate(split: str = "dev", analysed: Sequence[Any] | None = None) -> str:
    """A grid over the main thresholds of ``resolve.PARAMS`` on the dev split (never test): the
    candidates meeting the targets, ranked by the margin left. Prints; changes nothing."""
    import itertools

    from knowledge import resolve as rs
    from knowledge.eval.real import load_messages
    from knowledge.service import get_service

    if split != "dev":
        raise ValueError("calibration reads the dev split only")
    service = get_service()
    messages = load_messages(split="dev")
    analysed = analysed if analysed is not None else analyses(messages, service, "dev")
    rows = []
    grid = {
        "not_thing_min": (0.35, 0.45, 0.55),
        "thing_keep": (0.25, 0.35, 0.45),
        "sure_p": (0.45, 0.55, 0.65),
        "sure_thing": (0.4, 0.5, 0.6),
        "guess_thing": (0.15, 0.25, 0.35),
        "procedure_thing": (0.1, 0.15, 0.2),
    }
    keys = list(grid)
    for values in itertools.product(*(grid[k] for k in keys)):
        params = rs.with_params(**dict(zip(keys, values, strict=True)))
        f = figures(messages, run_resolve(analysed, service, params))
        score = (
            min(0, TARGETS["a_confident_wrong"] - f.a_confident_wrong) * 10
            + min(0, f.b_complaint_suggestion - TARGETS["b_complaint_suggestion"])
            + min(0, f.c_thing_top3 - TARGETS["c_thing_top3"])
            + min(0, TARGETS["d_bancheng_wrong"] - f.d_bancheng_wrong) * 10
            + 0.1 * (f.c_thing_top3 + f.b_strict - f.a_confident_wrong * 5)
        )
        rows.append((score, dict(zip(keys, values, strict=True)), f))
    rows.sort(key=lambda r: -r[0])
    lines = []
    for score, p, f in rows[:12]:
        lines.append(
            f"{score:+.4f} {p}  a={_pct(f.a_confident_wrong)} b={_pct(f.b_complaint_suggestion)}"
            f" (strict {_pct(f.b_strict)}) c={_pct(f.c_thing_top3)} d={_pct(f.d_bancheng_wrong)}"
        )
    return "\n".join(lines)
