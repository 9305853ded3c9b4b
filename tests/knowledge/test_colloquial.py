"""Colloquial expansion (knowledge/colloquial.yml, knowledge/search/colloquial.py): the official
words appended to a query, the file's validation, and what the shipped entries do to the real
search. The sentences here are written for these tests, never taken from the evaluation sets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from knowledge.search import colloquial
from knowledge.search.text import normalise

SHIPPED = colloquial.load()


def test_expansion_appends_each_official_word_once_and_keeps_the_words() -> None:
    table = colloquial.Colloquial(
        (colloquial.Entry(say="过辈|走了", means="去世 死亡"), colloquial.Entry(say="过辈", means="死亡 身后事"))
    )
    assert table.expand("老倌子过辈了") == "老倌子过辈了 去世 死亡 身后事"
    assert table.expand("我要办退休") == "我要办退休"
    assert table.expand("老人去世了，过辈") == "老人去世了，过辈 死亡 身后事"  # 去世 is there already


def test_a_missing_file_means_no_expansion(tmp_path: Path) -> None:
    table = colloquial.load(tmp_path / "none.yml")
    assert table.entries == () and table.expand("过辈") == "过辈"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("words:\n  - say: '(盖屋'\n    means: 建房\n", "entry 1: "),
        ("words:\n  - say: 盖屋\n    means: '  '\n", "means is empty"),
        ("words:\n  - say: 盖屋\n    mean: 建房\n", "entry 1"),
        ("- say: 盖屋\n", "a list under 'words'"),
    ],
)
def test_a_malformed_file_is_refused_with_where(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "colloquial.yml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ValueError, match="colloquial.yml") as error:
        colloquial.load(path)
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("said", "added"),
    [
        ("乡里盖屋要办么子证", "建房"),
        ("想在老家起栋新屋", "农村建房"),
        ("屋里老娘过辈了", "去世"),
        ("娘老子走了，要办么子", "身后事"),
        ("我爸死了", "死亡"),
        ("我要办退修", "退休"),
        ("看病的钱哪么报", "医疗费用报销"),
    ],
)
def test_shipped_entries_understand_these(said: str, added: str) -> None:
    assert added in SHIPPED.expand(normalise(said)).split()[1:]


@pytest.mark.parametrize("said", ["我家狗死了", "我妈走了一趟医院", "我妈老了，腿脚不方便", "我住在乡下，要办退休", "手机死机了"])
def test_shipped_entries_leave_these_alone(said: str) -> None:
    assert SHIPPED.expand(normalise(said)) == normalise(said)


@pytest.mark.quality
@pytest.mark.parametrize(
    ("said", "code"),
    [
        ("乡里盖屋要办么子证", "43TC2000100Y"),
        ("我要办退修", "43PCN0013"),
        ("屋里老娘过辈了", "43PCP0008"),
        ("我妈去世了", "43PCP0008"),
        ("我娭毑冇得了", "43PCP0008"),
        ("看病的钱哪么报", "43PCP0006"),
    ],
)
def test_the_real_search_is_sure_of_these(said: str, code: str) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from knowledge.service import get_service

    answer = get_service().match(said)
    assert answer.verdict.value == "sure" and answer.hits[0].code == code, answer
