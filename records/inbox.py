"""What staff (and the queue) say to a person: one Redis Stream per conversation.

Key:

- ``yjs:handoff:inbox:<conversation>``  stream, capped near ``INBOX_MAXLEN`` entries, expires
  ``INBOX_TTL_SECONDS`` after the last message. Entry fields: ``from`` (``staff``, ``system`` or
  ``assistant``: the assistant's messages after a hand-back), ``text``, ``ticket``, ``ts``, and
  ``buttons`` (JSON ``[{"title", "payload"}]``, assistant messages only) when there are any.

The REST channel reads it for ``GET /api/chat/{sender}/inbox?after=<id>`` with ``read_inbox``; ids
increase, so the client passes back the last id it showed. Any gateway process sees the same entries,
and live delivery can wait for new ones (``block_ms``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

import redis.asyncio
from pydantic import BaseModel, ConfigDict

from records.cas import Op
from records.client import MAX_BLOCK_MS

INBOX_PREFIX = "yjs:handoff:inbox:"
INBOX_MAXLEN = 1_000
INBOX_TTL_SECONDS = 7 * 24 * 3600


def inbox_key(conversation: str) -> str:
    return f"{INBOX_PREFIX}{conversation}"


From = Literal["staff", "system", "assistant"]


class InboxButton(BaseModel):
    model_config = ConfigDict(extra="ignore")

    title: str
    payload: str


class InboxMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str  # stream entry id; pass the last one back as ``after_id``
    sender: From  # field ``from`` in Redis
    text: str
    ticket: str
    ts: float
    buttons: list[InboxButton] = []


def inbox_ops(
    conversation: str,
    sender: From,
    text: str,
    ticket_id: str,
    ts: float,
    buttons: Sequence[InboxButton] = (),
) -> list[Op]:
    """The XADD + EXPIRE to run inside a compare-and-set script (``records.cas``), or on their own."""
    key = inbox_key(conversation)
    fields: list[str] = ["from", sender, "text", text, "ticket", ticket_id, "ts", repr(float(ts))]
    if buttons:
        fields += ["buttons", json.dumps([b.model_dump() for b in buttons], ensure_ascii=False)]
    return [
        ("XADD", key, "MAXLEN", "~", INBOX_MAXLEN, "*", *fields),
        ("EXPIRE", key, INBOX_TTL_SECONDS),
    ]


async def add_messages(
    client: redis.asyncio.Redis,
    conversation: str,
    messages: Sequence[tuple[From, str, Sequence[InboxButton]]],
    ticket_id: str,
    ts: float,
) -> list[str]:
    """Add messages outside a ticket change (one transaction, in order); their ids."""
    async with client.pipeline(transaction=True) as pipe:
        for sender, text, buttons in messages:
            for op in inbox_ops(conversation, sender, text, ticket_id, ts, buttons):
                pipe.execute_command(*op)
        replies = await pipe.execute()
    return [_text(r) for r in replies[::2]]


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _message(entry_id: Any, fields: dict[Any, Any]) -> InboxMessage:
    data = {_text(k): _text(v) for k, v in fields.items()}
    buttons = [InboxButton.model_validate(b) for b in json.loads(data["buttons"])] if data.get("buttons") else []
    return InboxMessage(
        id=_text(entry_id),
        sender=data["from"],  # type: ignore[arg-type]
        text=data["text"],
        ticket=data["ticket"],
        ts=float(data["ts"]),
        buttons=buttons,
    )


async def read_inbox(
    client: redis.asyncio.Redis,
    conversation: str,
    after_id: str | None = None,
    block_ms: int | None = None,
    count: int = 100,
) -> list[InboxMessage]:
    """Messages for ``conversation`` after ``after_id`` (all kept ones when None), oldest first.

    With ``block_ms`` (at most ``MAX_BLOCK_MS``) and nothing new yet, waits that long for one."""
    key = inbox_key(conversation)
    if block_ms is None:
        start = "-" if not after_id else f"({after_id}"
        entries = await client.xrange(key, min=start, max="+", count=count)
    else:
        block = max(1, min(int(block_ms), MAX_BLOCK_MS))
        reply = await client.xread({key: after_id or "0-0"}, count=count, block=block)
        entries = [e for _, batch in (reply or []) for e in batch]
    return [_message(i, f) for i, f in entries]
