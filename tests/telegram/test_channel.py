"""The Telegram channel end to end: the stand-in Bot API in front, the real stack behind."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
import redis
from conftest import new_chat
from standin import StandIn

from bot import messages
from bot.telegram.split import MAX_CHARS
from records import staff_queue, tickets
from records.client import async_client

pytestmark = pytest.mark.e2e

THING = "43PCN0009"


async def test_start_and_a_message_get_answers_with_inline_keyboards(tg: StandIn):
    chat = new_chat()
    tg.text(chat, "/start")
    [greeting] = await tg.wait_sent(chat)
    assert greeting.text == messages.TG_GREETING
    labels = dict(greeting.buttons)
    assert "生孩子" in labels and labels["生孩子"] == f"s:{THING}", greeting.buttons
    assert "退休" in labels and len(labels) >= 8

    tg.text(chat, "我堂客上个月生了个伢子，要上户口，要带么子")
    answer = await tg.wait_sent(chat, after=1, match=lambda s: "新生儿出生" in (s.text or ""))
    assert any("新生儿出生" in (s.text or "") for s in answer), [s.text for s in answer]
    # The answer to the person went out by sendMessage, to this chat only.
    assert all(s.method == "sendMessage" for s in answer)


async def test_a_situation_button_continues_the_conversation(tg: StandIn):
    chat = new_chat()
    tg.text(chat, "/start")
    [greeting] = await tg.wait_sent(chat)
    tg.press(greeting, f"s:{THING}")
    answer = await tg.wait_sent(chat, after=1, match=lambda s: "新生儿出生" in (s.text or ""))
    assert any("新生儿出生" in (s.text or "") for s in answer)
    assert tg.calls_of("answerCallbackQuery"), "the button press was not answered"
    # One press per keyboard: the buttons were taken away from the greeting.
    assert tg.sent_to(chat)[0].markup is None


def _redis(stack) -> redis.Redis:
    return redis.Redis.from_url(stack.config.redis_url, decode_responses=True)


async def _records(stack, call):
    client = async_client(stack.config.redis_url)
    try:
        return await call(client)
    finally:
        await client.aclose()


async def test_human_staff_messages_and_the_hand_back_reach_the_chat(tg: StandIn, stack):
    chat = new_chat()
    sender = f"tg-{chat}"
    tg.text(chat, "我堂客上个月生了个伢子，要上户口")
    await tg.wait_sent(chat, match=lambda s: "新生儿出生" in (s.text or ""))
    seen = len(tg.sent_to(chat))

    tg.text(chat, "/human")  # the ask-human intent, through the gateway core
    consent = await tg.wait_sent(chat, after=seen, match=lambda s: s.buttons)
    asking = next(s for s in consent if s.buttons)
    assert "同意" in (asking.text or ""), asking.text
    yes = next(data for title, data in asking.buttons if "/affirm" in data or "同意" in title)
    seen = len(tg.sent_to(chat))
    tg.press(asking, yes)
    await tg.wait_sent(chat, after=seen, match=lambda s: "工作人员会在这里直接回复您" in (s.text or ""))
    ticket = tickets.ticket_for_sender_sync(_redis(stack), sender)
    assert ticket is not None and ticket.current_thing is not None and ticket.current_thing.code == THING
    assert ticket.channel == "telegram"

    # Staff take it and write: the message is pushed into the chat (delivery follows Redis).
    seen = len(tg.sent_to(chat))
    started = time.monotonic()
    await _records(stack, lambda c: staff_queue.claim(c, ticket.id, "zhang"))
    await _records(stack, lambda c: staff_queue.add_staff_message(c, ticket.id, "zhang", "您好，我是小张，户口本带了吗？"))
    got = await tg.wait_sent(chat, after=seen, match=lambda s: (s.text or "").endswith("户口本带了吗？"))
    pushed = [s for s in got if "户口本带了吗" in (s.text or "")]
    assert [s.text for s in pushed] == [f"{messages.TG_STAFF_PREFIX}您好，我是小张，户口本带了吗？"]
    print(f"\nstaff message reached the chat {time.monotonic() - started:.2f}s after the claim")

    # The person's answer goes to staff (transcript), not to Rasa.
    seen = len(tg.sent_to(chat))
    tg.text(chat, "户口本带了的")
    await tg.wait_sent(chat, after=seen, match=lambda s: "工作人员正在处理" in (s.text or ""))
    stored = tickets.get_ticket_sync(_redis(stack), ticket.id)
    assert stored.transcript[-1].text == "户口本带了的"

    # Staff give it back: the rating prompt with its five buttons arrives in the chat, once.
    seen = len(tg.sent_to(chat))
    await _records(stack, lambda c: staff_queue.close(c, ticket.id, "zhang", "done", note="已指导", return_to_bot=True))
    got = await tg.wait_sent(chat, after=seen, match=lambda s: "打个分" in (s.text or ""))
    [prompt] = [s for s in got if "打个分" in (s.text or "")]
    assert len(prompt.buttons) == 5
    seen = len(tg.sent_to(chat))
    tg.press(prompt, prompt.buttons[0][1])
    await tg.wait_sent(chat, after=seen, match=lambda s: "非常满意" in (s.text or ""))
    await asyncio.sleep(2.5)  # nothing is delivered twice
    assert sum("打个分" in (s.text or "") for s in tg.sent_to(chat)) == 1
    assert sum("户口本带了吗" in (s.text or "") for s in tg.sent_to(chat)) == 1


async def test_the_checklist_is_also_sent_as_a_pdf(tg: StandIn):
    chat = new_chat()
    tg.text(chat, "我堂客上个月生了个伢子，要上户口")
    await tg.wait_sent(chat, match=lambda s: "新生儿出生" in (s.text or ""))
    seen = len(tg.sent_to(chat))
    tg.text(chat, "帮我列个材料清单")
    for _ in range(6):  # at most four questions: skip each
        got = await tg.wait_sent(chat, after=seen, match=lambda s: s.buttons or s.method == "sendDocument")
        doc = [s for s in got if s.method == "sendDocument"]
        if doc:
            break
        question = next(s for s in got if s.buttons)
        skip = next(data for title, data in question.buttons if title == "不晓得，跳过")
        seen = len(tg.sent_to(chat))
        tg.press(question, skip)
    else:
        pytest.fail("no checklist document")
    [document] = doc
    assert document.filename == "材料清单.pdf" and document.data and document.data.startswith(b"%PDF"), document.filename
    assert 1_000 < len(document.data) < 200_000
    listed = [s for s in got if s.method == "sendMessage" and "材料" in (s.text or "")]
    assert listed, "the checklist text came before the file"


async def test_a_rate_limited_send_is_retried_and_arrives(tg: StandIn):
    chat = new_chat()
    tg.fail_next("sendMessage", 429, retry_after=1)
    started = time.monotonic()
    tg.text(chat, "/help")
    [sent] = await tg.wait_sent(chat)
    assert sent.text == messages.TG_HELP
    assert time.monotonic() - started >= 1.0
    assert len([p for p in tg.calls_of("sendMessage") if int(p["chat_id"]) == chat]) == 2


@pytest.mark.parametrize("kind", ["sticker", "photo", "voice", "document", "location"])
async def test_anything_but_text_gets_a_kind_answer(tg: StandIn, kind: str):
    chat = new_chat()
    tg.media(chat, kind)
    [sent] = await tg.wait_sent(chat)
    assert sent.text == messages.TG_ONLY_TEXT


async def test_an_edited_message_gets_a_kind_answer(tg: StandIn):
    chat = new_chat()
    tg.edited(chat, "我要办退休")
    [sent] = await tg.wait_sent(chat)
    assert sent.text == messages.TG_EDITED


async def test_a_message_over_the_limit_gets_the_gateways_kind_message(tg: StandIn, channel_settings):
    chat = new_chat()
    tg.text(chat, "办" * (channel_settings.chat_max_chars + 1))
    [sent] = await tg.wait_sent(chat)
    assert sent.text == messages.message_too_long(channel_settings.chat_max_chars)


async def test_restart_starts_afresh_and_a_typed_slash_command_stays_text(tg: StandIn, stack):
    chat = new_chat()
    tg.text(chat, "我堂客上个月生了个伢子，要上户口")
    await tg.wait_sent(chat, match=lambda s: "新生儿出生" in (s.text or ""))
    seen = len(tg.sent_to(chat))
    tg.text(chat, "/restart")
    got = await tg.wait_sent(chat, after=seen, match=lambda s: s.text == messages.TG_RESTARTED)
    assert any(s.buttons for s in got if s.text == messages.TG_RESTARTED)
    # Rasa's tracker was restarted: its current matter is gone.
    async with httpx.AsyncClient(timeout=30) as client:
        resp = await client.get(f"{stack.config.rasa_url}/conversations/tg-{chat}/tracker",
                                params={"token": stack.config.rasa_token})
    assert resp.status_code == 200
    assert resp.json()["slots"].get("current_thing") is None


async def test_a_long_answer_is_split_at_line_breaks(tg: StandIn, channel_settings):
    """A reply longer than 4,096 characters (Rasa's answers are shorter): rendered and sent by the
    channel's own path (``render`` + ``send.send_all``) through the Bot API stand-in."""
    from telegram import Bot

    from bot.telegram import send
    from bot.telegram.render import render

    chat = new_chat()
    text = "\n".join(f"第{i}行：请带上户口本、身份证和出生医学证明的原件。" for i in range(400))
    assert len(text) > 2 * MAX_CHARS
    reply = {"text": text, "buttons": [{"title": "好的", "payload": "/affirm"}]}
    async with Bot(channel_settings.telegram_token, base_url=channel_settings.telegram_api_base) as bot:
        sent_count = await send.send_all(bot, chat, render([reply]), _PlainCallbacks(), None, None)  # type: ignore[arg-type]
    sent = tg.sent_to(chat)
    assert sent_count == len(sent) == 3 and all(len(s.text or "") <= MAX_CHARS for s in sent)
    assert "\n".join(s.text or "" for s in sent) == text  # cut only at line breaks
    assert [s.buttons for s in sent] == [[], [], [("好的", "/affirm")]]  # the keyboard under the last piece


class _PlainCallbacks:
    async def data_for(self, payload: str) -> str:
        return payload
