"""knowledge.sentences: spaCy's sentencizer over a blank zh pipeline splits long messages."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from knowledge import resolve
from knowledge.sentences import sentences


def test_ends_of_sentence_and_line_breaks() -> None:
    assert sentences("第一句。第二句！第三句？\n第四句") == ["第一句。", "第二句！", "第三句？", "第四句"]
    assert sentences("a; b;c") == ["a;", "b;", "c"]


def test_a_run_of_marks_stays_with_its_sentence() -> None:
    # The regular expression this replaced made "！" and "？" sentences of their own.
    assert sentences("要办么子？！好的……\n第二行") == ["要办么子？！", "好的……", "第二行"]
    assert sentences("县里要吗？？？我问问") == ["县里要吗？？？", "我问问"]


def test_a_closing_quote_stays_with_the_sentence_it_closes() -> None:
    text = "规定写着：“由业主大会决定。”而物业擅自涨价。"
    assert sentences(text) == ["规定写着：“由业主大会决定。”", "而物业擅自涨价。"]


def test_empty_and_blank_text() -> None:
    assert sentences("") == []
    assert sentences(" \n\n ") == []
    assert sentences("没有标点的一句话") == ["没有标点的一句话"]


def test_a_story_of_4000_characters() -> None:
    story = "我家伢子刚生下来，还冇上户口。" * 266 + "请问要带么子材料？"
    parts = sentences(story)
    assert len(parts) == 267 and parts[-1] == "请问要带么子材料？"


def test_threads_get_the_same_answer() -> None:
    texts = [f"第{i}个伢子刚生。要办么子？第{i}句" for i in range(200)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(sentences, texts))
    assert got == [[f"第{i}个伢子刚生。", "要办么子？", f"第{i}句"] for i in range(200)]


def test_resolve_reads_the_asking_sentence_with_spacy() -> None:
    story = "我堂客上个月生了个伢子，屋里忙得很！！请问上户口要带么子材料？"
    assert resolve.asking_sentences(story) == ["请问上户口要带么子材料？"]
