"""Rasa's replies (as ``bot.app.reply_to`` returns them) -> what to send into a Telegram chat.

- ``text`` -> one message, or several when it is longer than 4,096 characters (``split``);
- ``buttons`` / ``quick_replies`` -> an inline keyboard under the (last piece of the) text, one
  button per row (big targets); a reply with buttons but no text gets a short "请选择：";
- ``image`` -> its URL as a line of text;
- ``custom.checklist`` -> a file of the card (``document``), after the text;
- any other ``custom`` (``handoff``, ``error``, ``theme``) is for machines and is not shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.telegram.split import split_text

CHOOSE = "请选择："


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class TextOut:
    text: str
    buttons: list[Button] = field(default_factory=list)


@dataclass(frozen=True)
class CardOut:
    card: dict[str, Any]


Outgoing = TextOut | CardOut


def _buttons(reply: dict[str, Any]) -> list[Button]:
    found: list[Button] = []
    for name in ("buttons", "quick_replies"):
        for item in reply.get(name) or []:
            if not isinstance(item, dict):
                continue
            title, payload = item.get("title"), item.get("payload")
            if isinstance(title, str) and title.strip() and isinstance(payload, str) and payload.strip():
                found.append(Button(title.strip(), payload.strip()))
    return found


def render(replies: list[dict[str, Any]]) -> list[Outgoing]:
    out: list[Outgoing] = []
    for reply in replies:
        if not isinstance(reply, dict):
            continue
        text = reply.get("text") if isinstance(reply.get("text"), str) else ""
        image = reply.get("image")
        if isinstance(image, str) and image.strip():
            text = f"{text}\n{image.strip()}" if text else image.strip()
        buttons = _buttons(reply)
        if buttons and not text.strip():
            text = CHOOSE
        if text.strip():
            pieces = split_text(text)
            out += [TextOut(piece) for piece in pieces[:-1]]
            out.append(TextOut(pieces[-1], buttons))
        custom = reply.get("custom")
        card = custom.get("checklist") if isinstance(custom, dict) else None
        if isinstance(card, dict) and (card.get("text") or card.get("title")):
            out.append(CardOut(card))
    return out
