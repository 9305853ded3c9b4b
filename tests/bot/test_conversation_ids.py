"""Conversation ids (bot/conversation.py): kept or encoded, reversible, injective, URL- and key-safe."""

from __future__ import annotations

import random
import string
from urllib.parse import quote

import pytest

from bot.config import Settings
from bot.conversation import (
    InvalidSender,
    channel_of,
    check_sender,
    conversation_id,
    is_conversation_id,
    is_kept,
    sender_id,
)

TRICKY = [
    "web:42", "a/b", "a%2Fb", "a%252Fb", "张三", "x y", ".", "..", "...", "~", "~abc", "~YS9i", "a?b=c",
    "a#b", "a\\b", "-", "_", "a.", ".a", "e2e-handoff", "UPPER_lower-09.x", "a+b", "a b ", " a", "😀",
    "tg:123456789", "kiosk/1/张", "%", "%%", "a..b", "../etc/passwd", "\u00e9", "e\u0301", "a=b", "ab==",
]


@pytest.mark.parametrize("sender", ["web-42", "e2e-handoff", "u1", "A_b-9.z", "-x", "_"])
def test_plain_ids_are_kept_as_they_are(sender: str) -> None:
    assert is_kept(sender) and conversation_id(sender) == sender


@pytest.mark.parametrize("sender", TRICKY)
def test_every_id_round_trips_and_is_safe_in_a_url_path(sender: str) -> None:
    conversation = conversation_id(sender)
    assert sender_id(conversation) == sender
    assert is_conversation_id(conversation)
    assert quote(conversation, safe="") == conversation  # nothing to percent-encode
    assert conversation not in (".", "..")
    assert all(c in string.ascii_letters + string.digits + "-_.~" for c in conversation)


@pytest.mark.parametrize("sender", ["web:42", "a/b", "a%2Fb", "张三", "x y", ".", "..", "~abc", "a?b"])
def test_ids_that_are_not_plain_are_encoded(sender: str) -> None:
    assert conversation_id(sender).startswith("~")


def test_the_mapping_is_injective_on_tricky_and_random_ids() -> None:
    rng = random.Random(10)
    alphabet = string.ascii_letters + string.digits + "-_.~:/%? 张三\u00e9😀="
    senders = set(TRICKY) | {"".join(rng.choices(alphabet, k=rng.randint(1, 12))) for _ in range(5000)}
    conversations = {conversation_id(s) for s in senders}
    assert len(conversations) == len(senders)
    # An encoded id can never be a kept one: the encoding of "~abc" differs from "~abc".
    assert conversation_id("~abc") != "~abc"
    assert all(sender_id(conversation_id(s)) == s for s in senders)


def test_the_resume_url_uses_the_conversation_id_as_it_is() -> None:
    settings = Settings(rasa_url="http://127.0.0.1:5005")
    url = settings.rasa_events_url(conversation_id("a/b"))
    assert url == f"http://127.0.0.1:5005/conversations/{conversation_id('a/b')}/tracker/events"
    with pytest.raises(ValueError):
        settings.rasa_events_url("a/b")  # a raw sender id never goes into a URL


@pytest.mark.parametrize(
    ("sender", "reason"),
    [("", "empty"), ("   ", "empty"), ("a" * 129, "too_long"), ("a\nb", "invalid_characters"),
     ("a\x00", "invalid_characters"), ("a\x85b", "invalid_characters"), ("a\u2028b", "invalid_characters"),
     ("a\ud800", "invalid_characters"), ("\x7f", "invalid_characters")],
)
def test_unusable_sender_ids_are_refused(sender: str, reason: str) -> None:
    with pytest.raises(InvalidSender) as raised:
        check_sender(sender, 128)
    assert raised.value.reason == reason


@pytest.mark.parametrize("sender", ["web:42", "a/b", "张三", "x y", ".", "..", "a" * 128])
def test_usable_sender_ids_pass(sender: str) -> None:
    assert check_sender(sender, 128) == sender


def test_the_channel_follows_from_the_sender_id() -> None:
    assert channel_of("kiosk-AbCdEfGhIjKlMnOpQrStUv") == "kiosk"
    assert channel_of("tg-123456") == "telegram"
    assert channel_of("web:42") == channel_of("张三") == channel_of("kiosk") == "rest"
