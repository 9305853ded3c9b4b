"""The Telegram channel's small parts on their own: splitting, rendering, callback data, the file."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from bot import messages
from bot.telegram import chat_for, document, sender_for
from bot.telegram.callbacks import MAX_BYTES, CallbackStore
from bot.telegram.render import Button, CardOut, TextOut, render
from bot.telegram.split import MAX_CHARS, split_text


def test_conversation_ids_follow_the_chat():
    assert sender_for(42) == "tg-42" and sender_for(-100123) == "tg--100123"
    assert chat_for("tg-42") == 42 and chat_for("tg--100123") == -100123
    assert chat_for("web-42") is None and chat_for("tg-x") is None


def test_split_keeps_short_text_and_cuts_long_text_at_line_breaks():
    assert split_text("你好") == ["你好"]
    assert split_text("") == []
    lines = [f"{i:04d}" + "材" * 95 for i in range(120)]  # 100 characters a line
    text = "\n".join(lines)
    pieces = split_text(text)
    assert all(len(p) <= MAX_CHARS for p in pieces) and len(pieces) == 3
    assert "\n".join(pieces) == text
    assert all(p.split("\n")[0][:4].isdigit() for p in pieces)  # every piece starts with a whole line


def test_split_cuts_a_line_longer_than_the_limit_hard():
    text = "a" * 10 + "\n" + "b" * 25 + "\n" + "c"
    assert split_text(text, limit=10) == ["a" * 10, "b" * 10, "b" * 10, "b" * 5 + "\nc"]


def test_render_buttons_checklist_and_what_is_not_shown():
    replies = [
        {"recipient_id": "tg-1", "text": "您要办的是哪一件？",
         "buttons": [{"title": "退休“一件事”", "payload": "/choose_thing{\"thing_code\":\"43PCN0013\"}"}]},
        {"recipient_id": "tg-1", "custom": {"theme": "43PCN0013"}},
        {"recipient_id": "tg-1", "buttons": [{"title": "是的", "payload": "/affirm"}]},
        {"recipient_id": "tg-1", "custom": {"checklist": {"codes": ["X"], "title": "T", "text": "1. 户口本"}}},
    ]
    out = render(replies)
    assert out == [
        TextOut("您要办的是哪一件？", [Button("退休“一件事”", "/choose_thing{\"thing_code\":\"43PCN0013\"}")]),
        TextOut("请选择：", [Button("是的", "/affirm")]),
        CardOut({"codes": ["X"], "title": "T", "text": "1. 户口本"}),
    ]


async def test_long_payloads_go_through_redis_and_come_back(redis_url: str):
    client = Redis.from_url(redis_url)
    try:
        store = CallbackStore(client, ttl_seconds=60)
        short = "/affirm"
        assert await store.data_for(short) == short
        long = '/inform_fact{"fact_key":"applicant_role","fact_value":"孩子他爸爸或者妈妈来办理"}'
        assert len(long.encode()) > MAX_BYTES
        data = await store.data_for(long)
        assert len(data.encode()) <= MAX_BYTES and data.startswith("#")
        assert await store.data_for(long) == data  # the same payload, the same key
        assert await store.payload_for(data) == long
        assert await store.payload_for("#0000000000000000") is None  # expired or never made
        assert await store.data_for("s:looks-like-a-situation") != "s:looks-like-a-situation"
    finally:
        await client.aclose()


async def test_without_redis_long_payloads_are_kept_in_memory():
    client = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)  # nothing listens there
    store = CallbackStore(client, ttl_seconds=60)
    long = "/choose_thing" + "x" * 80
    data = await store.data_for(long)
    assert await store.payload_for(data) == long
    await client.aclose()


CARD = {"codes": ["43PCN0009"], "title": "新生儿出生一件事",
        "text": "要带的材料：\n1. 户口本（原件）\n2. 出生医学证明", "url": "/c/abc123"}


def test_the_card_becomes_a_pdf_with_the_link_when_a_base_url_is_known():
    if document.find_font(None) is None:
        pytest.skip("no CJK font on this machine (apt-get install fonts-wqy-microhei)")
    doc = document.checklist_document(CARD, "https://yjs.example.gov.cn", None)
    assert doc.filename.endswith(".pdf") and doc.data.startswith(b"%PDF") and len(doc.data) < 100_000
    assert b"https://yjs.example.gov.cn/c/abc123" in doc.data  # the link annotation
    assert document.link_of(CARD, None) is None  # a relative path means nothing in a chat
    assert document.link_of({**CARD, "public_url": "https://a.b/c/x"}, None) == "https://a.b/c/x"


def test_without_a_cjk_font_the_card_is_a_text_file(monkeypatch, caplog):
    monkeypatch.setattr(document, "find_font", lambda _: None)
    monkeypatch.setattr(document, "_told_no_font", False)
    first = document.checklist_document(CARD, None, None)
    document.checklist_document(CARD, None, None)
    assert first.filename.endswith(".txt") and first.mime == "text/plain"
    text = first.data.decode("utf-8")
    assert "新生儿出生一件事" in text and "户口本" in text and messages.CHECKLIST_LINK_FOOTER in text
    assert sum("no CJK font" in r.getMessage() for r in caplog.records) == 1  # logged once


def test_a_configured_font_that_is_missing_falls_back(tmp_path):
    found = document.find_font(str(tmp_path / "nope.ttf"))
    assert found is None or found.is_file()
