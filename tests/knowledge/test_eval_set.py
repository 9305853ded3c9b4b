"""The labelled evaluation sets are well formed, and the runner's metrics are right."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from knowledge.eval import runner
from knowledge.eval.runner import (
    EvalQuery,
    OosQuery,
    QueryResult,
    evaluate,
    format_report,
    load_out_of_scope,
    load_queries,
    metrics_by_split,
    metrics_by_tag,
    rank_of,
    ranking_metrics,
    rejection_metrics,
    run_queries,
    worst_misses,
)

REPO = Path(__file__).resolve().parents[2]
DATA_DIR = Path(os.environ.get("HUNAN_DATA", REPO.parent / "shared" / "data" / "hunan-onething"))
SYX_TITLES = {"SYX-QYKB": "企业开办“一件事”", "SYX-ESFZY": "二手房转移登记“一件事”"}
COMMON_THEMES = {
    "43PCN0009": "新生儿出生",
    "43PCN0013": "退休",
    "43PCN0011": "社保卡",
    "43PCN0010": "教育入学",
    "43PCN0012": "残疾人",
    "43PCP0008": "个人身后",
    "43PCP0007": "结婚落户",
    "43PCP0002": "公租房",
    "43PCP0006": "就医报销",
    "43TCN0003": "餐饮店",
    "SYX-QYKB": "企业开办",
    "SYX-ESFZY": "二手房",
}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def official_titles() -> dict[str, str]:
    path = DATA_DIR / "themes.json"
    if not path.is_file():
        pytest.skip(f"official export not found at {path} (set HUNAN_DATA)")
    themes = json.loads(path.read_text(encoding="utf-8"))["themes"]
    titles = {t["id"]: t["name"] for t in themes}
    assert len(titles) == 58
    return titles


@pytest.fixture(scope="module")
def all_titles(official_titles: dict[str, str]) -> dict[str, set[str]]:
    """Every title a theme is known by: themes.json, the SYX ones, and the catalogue's if generated."""
    titles: dict[str, set[str]] = {code: {name} for code, name in official_titles.items()}
    for code, name in SYX_TITLES.items():
        titles.setdefault(code, set()).add(name)
    for path in sorted((REPO / "knowledge" / "catalogue").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if data.get("code") and data.get("title"):
            titles.setdefault(str(data["code"]), set()).add(str(data["title"]))
    return titles


@pytest.fixture(scope="module")
def queries() -> list[EvalQuery]:
    return load_queries("all")


@pytest.fixture(scope="module")
def oos() -> list[OosQuery]:
    return load_out_of_scope("all")


def _norm(text: str) -> str:
    text = re.sub(r"[“”\"'‘’「」\s，。？！、,.?!:：;；（）()]", "", text)
    return text.replace("高效办成", "").replace("一件事", "")


# --------------------------------------------------------------------------- the sets


def test_every_code_is_a_known_theme(queries: list[EvalQuery], official_titles: dict[str, str]) -> None:
    known = set(official_titles) | set(SYX_TITLES)
    unknown = sorted({q.code for q in queries} - known)
    assert not unknown, f"codes not in themes.json nor SYX: {unknown}"


def test_every_theme_is_in_both_splits(queries: list[EvalQuery], official_titles: dict[str, str]) -> None:
    expected = set(official_titles) | set(SYX_TITLES)
    assert len(expected) == 60
    for split in ("dev", "test"):
        covered = {q.code for q in queries if q.split == split}
        assert covered == expected, f"{split} misses {sorted(expected - covered)}"


def test_counts_meet_the_minimums(queries: list[EvalQuery], oos: list[OosQuery]) -> None:
    assert len(queries) >= 400
    per_theme = Counter(q.code for q in queries)
    assert min(per_theme.values()) >= 6, per_theme.most_common()[-5:]
    for code, name in COMMON_THEMES.items():
        assert per_theme[code] >= 8, f"common theme {name} ({code}) has only {per_theme[code]}"
    assert len(oos) >= 60


def test_splits_are_about_40_60_per_theme(queries: list[EvalQuery], oos: list[OosQuery]) -> None:
    dev_share = sum(q.split == "dev" for q in queries) / len(queries)
    assert 0.35 <= dev_share <= 0.45, dev_share
    for code in {q.code for q in queries}:
        mine = [q for q in queries if q.code == code]
        dev = sum(q.split == "dev" for q in mine)
        assert 0.25 <= dev / len(mine) <= 0.5, (code, dev, len(mine))
    oos_dev = sum(o.split == "dev" for o in oos) / len(oos)
    assert 0.35 <= oos_dev <= 0.45, oos_dev
    assert {o.split for o in oos} == {"dev", "test"}


def test_no_duplicate_queries(queries: list[EvalQuery], oos: list[OosQuery]) -> None:
    texts = [_norm(q.q) for q in queries] + [_norm(o.q) for o in oos]
    dupes = [t for t, n in Counter(texts).items() if n > 1]
    assert not dupes, f"duplicate queries (across both splits and out-of-scope): {dupes}"


def test_no_query_is_an_official_title(queries: list[EvalQuery], all_titles: dict[str, set[str]]) -> None:
    forbidden = {_norm(t) for names in all_titles.values() for t in names}
    forbidden |= {re.sub(r"\d{4}年度", "", t) for t in forbidden}
    copied = [q.q for q in queries if _norm(q.q) in forbidden]
    assert not copied, f"queries that just repeat an official title: {copied}"


def test_tags_come_from_the_fixed_set(queries: list[EvalQuery], oos: list[OosQuery]) -> None:
    for q in queries:
        assert q.tags, q.q
        assert set(q.tags) <= set(runner.TAGS), (q.q, q.tags)
    for o in oos:
        assert o.tags, o.q
        assert set(o.tags) <= set(runner.TAGS) | set(runner.OOS_EXTRA_TAGS), (o.q, o.tags)


def test_tags_describe_the_text(queries: list[EvalQuery]) -> None:
    for q in queries:
        if "short" in q.tags:
            assert 2 <= len(q.q) <= 6, f"'short' must be a 2-6 character fragment: {q.q}"
        if "long" in q.tags:
            assert len(q.q) >= 25 and re.search(r"[，,。？?！!]", q.q), (
                f"'long' must be a multi-clause story: {q.q}"
            )


def test_styles_are_mixed_in_each_split(queries: list[EvalQuery]) -> None:
    for split in ("dev", "test"):
        tags = Counter(t for q in queries if q.split == split for t in q.tags)
        for tag in runner.TAGS:
            assert tags[tag] >= 8, f"{split} has only {tags[tag]} '{tag}' queries"
    plain_share = sum("plain" in q.tags for q in queries) / len(queries)
    assert plain_share < 0.5, plain_share


def test_out_of_scope_includes_near_misses(oos: list[OosQuery]) -> None:
    assert sum("near_miss" in o.tags for o in oos) >= 10


# --------------------------------------------------------------------------- metric functions


def _fake_search(table: dict[str, list[str]]):
    calls: list[tuple[str, int]] = []

    def search(query: str, k: int = 5) -> list[SimpleNamespace]:
        calls.append((query, k))
        return [
            SimpleNamespace(code=c, title=c, score=1.0 - i / 10) for i, c in enumerate(table.get(query, []))
        ]

    search.calls = calls  # type: ignore[attr-defined]
    return search


def _q(text: str, code: str, tags: tuple[str, ...] = ("plain",), split: str = "test") -> EvalQuery:
    return EvalQuery(q=text, code=code, tags=tags, split=split)


HAND_QUERIES = [
    _q("a", "A", ("plain",), "dev"),  # rank 1
    _q("b", "B", ("typo",), "dev"),  # rank 2
    _q("c", "C", ("typo", "short"), "test"),  # rank 3
    _q("d", "D", ("short",), "test"),  # rank 5
    _q("e", "E", ("plain",), "test"),  # absent
]
HAND_TABLE = {
    "a": ["A", "X", "Y"],
    "b": ["X", "B", "Y"],
    "c": ["X", "Y", "C", "Z"],
    "d": ["X", "Y", "Z", "W", "D"],
    "e": ["X", "Y"],
}


def test_rank_of() -> None:
    assert rank_of(["X", "A", "A"], "A") == 2
    assert rank_of(["X"], "A") is None
    assert rank_of([], "A") is None


def test_metrics_on_a_hand_computed_example() -> None:
    search = _fake_search(HAND_TABLE)
    results = run_queries(HAND_QUERIES, search, k=5)
    assert [r.rank for r in results] == [1, 2, 3, 5, None]
    assert search.calls == [(q.q, 5) for q in HAND_QUERIES]

    m = ranking_metrics(results)
    assert m.n == 5
    assert m.top1 == pytest.approx(1 / 5)
    assert m.top3 == pytest.approx(3 / 5)
    assert m.mrr == pytest.approx((1 + 1 / 2 + 1 / 3 + 1 / 5 + 0) / 5)

    by_split = metrics_by_split(results)
    assert by_split["dev"].top1 == pytest.approx(1 / 2)
    assert by_split["dev"].mrr == pytest.approx((1 + 1 / 2) / 2)
    assert by_split["test"].top3 == pytest.approx(1 / 3)
    assert by_split["all"] == m

    by_tag = metrics_by_tag(results)
    assert by_tag["typo"].n == 2 and by_tag["typo"].top1 == 0.0
    assert by_tag["typo"].mrr == pytest.approx((1 / 2 + 1 / 3) / 2)
    assert by_tag["plain"].top1 == pytest.approx(1 / 2)


def test_hits_beyond_k_are_ignored() -> None:
    search = _fake_search({"d": ["X", "Y", "Z", "W", "D"]})
    [res] = run_queries([_q("d", "D")], search, k=3)
    assert res.rank is None and len(res.codes) == 3


def test_hits_may_be_mappings_or_strings() -> None:
    def search(query: str, k: int = 5) -> list[object]:
        return [{"code": "X", "score": 0.9}, "A"]

    [res] = run_queries([_q("a", "A")], search)
    assert res.rank == 2 and res.top_score == pytest.approx(0.9)


def test_empty_set_gives_zero_not_an_error() -> None:
    assert ranking_metrics([]).top1 == 0.0


def test_worst_misses_order() -> None:
    results = [
        QueryResult("hit", "A", ("A",), 1, 0.9, (), "test"),
        QueryResult("rank2", "A", ("X", "A"), 2, 0.5, (), "test"),
        QueryResult("absent-confident", "A", ("X",), None, 0.95, (), "test"),
        QueryResult("absent-unsure", "A", ("X",), None, 0.2, (), "test"),
        QueryResult("rank4", "A", ("X", "Y", "Z", "A"), 4, 0.7, (), "test"),
    ]
    worst = worst_misses(results, n=3)
    assert [r.q for r in worst] == ["absent-confident", "absent-unsure", "rank4"]
    assert all(r.rank != 1 for r in worst_misses(results))


def test_rejection_metrics_with_a_fake_match() -> None:
    verdicts = {"weather": "none", "joke": "sure", "baby": "sure", "retire": "none", "wed": "ambiguous"}

    def match(query: str) -> SimpleNamespace:
        return SimpleNamespace(verdict=SimpleNamespace(value=verdicts[query]), hits=[])

    oos = [OosQuery("weather", ("plain",), "dev"), OosQuery("joke", ("plain",), "test")]
    ins = [_q("baby", "A"), _q("retire", "B"), _q("wed", "C")]
    r = rejection_metrics(oos, ins, match)
    assert (r.oos_rejected, r.oos_n) == (1, 2)
    assert r.rejection_rate == pytest.approx(0.5)
    assert r.false_rejection_rate == pytest.approx(1 / 3)
    assert r.false_rejections == ["retire"] and r.accepted_oos == ["joke"]


def test_evaluate_and_report_end_to_end(tmp_path: Path) -> None:
    search = _fake_search(HAND_TABLE)
    report = evaluate(
        search, lambda q: {"verdict": "none"}, HAND_QUERIES, [OosQuery("w", ("plain",), "dev")], k=5
    )
    assert report.rejection is not None and report.rejection.rejection_rate == 1.0
    assert report.rejection.false_rejection_rate == 1.0
    text = format_report(report, {"E": "某事"})
    assert "top-1" in text and "E 某事" in text and "20.0%" in text
    data = report.to_json()
    json.dumps(data, ensure_ascii=False)
    assert data["by_split"]["all"]["top1"] == pytest.approx(0.2)
    assert len(data["worst_misses"]) == 4


def test_loaders_filter_by_split(queries: list[EvalQuery], oos: list[OosQuery]) -> None:
    dev, test = load_queries("dev"), load_queries("test")
    assert len(dev) + len(test) == len(queries)
    assert {q.split for q in dev} == {"dev"}
    assert {o.split for o in load_out_of_scope("test")} == {"test"}
    with pytest.raises(ValueError):
        load_queries("train")
