"""The handoff ticket: what staff get when a person asks for a human (documented in docs/handoff.md)."""

from __future__ import annotations

import time
import uuid
from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1


class TicketStatus(str, Enum):
    waiting = "waiting"  # in the queue, no staff member has it yet
    picked_up = "picked_up"  # a staff member took it (``staff``, ``claimed_at``)
    resumed = "resumed"  # the person went back to the assistant (asked for it, or waited too long)
    closed = "closed"  # staff finished (``outcome``, ``closed_at``)


class CloseOutcome(str, Enum):
    """How staff closed a ticket: stable ASCII values, Chinese labels (``OUTCOME_LABELS``)."""

    done = "done"  # 办结
    offline_window = "offline_window"  # 转线下窗口
    booked = "booked"  # 已预约
    cannot_do = "cannot_do"  # 无法办理 (a 办不成事 case follows)


OUTCOME_LABELS = {
    CloseOutcome.done: "办结",
    CloseOutcome.offline_window: "转线下窗口",
    CloseOutcome.booked: "已预约",
    CloseOutcome.cannot_do: "无法办理",
}


OPEN_STATUSES = (TicketStatus.waiting, TicketStatus.picked_up)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MatchedThing(_Model):
    code: str
    title: str


class TranscriptLine(_Model):
    role: Literal["user", "bot", "staff"]
    text: str
    ts: float  # unix seconds
    staff: str | None = None  # the staff member's username, on role "staff" lines


class StaffNote(_Model):
    """A private note on a ticket: staff only, never shown to the person."""

    staff: str
    text: str
    ts: float  # unix seconds


class HandoffTicket(_Model):
    schema_version: int = SCHEMA_VERSION
    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    created_at: float = Field(default_factory=time.time)  # unix seconds
    updated_at: float | None = None
    status: TicketStatus = TicketStatus.waiting
    resumed_reason: Literal["asked", "timeout"] | None = None
    channel: str = "rest"
    sender: str
    priority: bool = False
    priority_reason: str | None = None  # e.g. "老年人"; only with consent
    consent: bool = False
    # Everything below is filled only when the person consented to pass on what the assistant knows.
    why: str | None = None  # the person's own words when asking for a human (or before)
    matched_things: list[MatchedThing] = Field(default_factory=list)
    current_thing: MatchedThing | None = None
    checklist: str | None = None  # rendered personal checklist of current_thing
    conditions: list[str] = Field(default_factory=list)  # official conditions of current_thing
    transcript: list[TranscriptLine] = Field(default_factory=list)
    contact: str | None = None  # phone number the person gave in the conversation
    # Staff side (optional, schema 1 stays readable; records/staff_queue.py writes them).
    staff: str | None = None  # username of the staff member who has it (cleared on requeue, kept on close)
    claimed_at: float | None = None
    requeued_at: float | None = None  # last time a claim was given up (staff gone) and it was queued again
    closed_at: float | None = None
    outcome: CloseOutcome | None = None
    staff_note: str | None = None  # the closing note
    notes: list[StaffNote] = Field(default_factory=list)  # private notes, never shown to the person
    returned_to_bot: bool | None = None  # on close: staff gave the conversation back to the assistant
    returned_at: float | None = None  # when the gateway had Rasa resume after the close
    case_id: str | None = None  # closed as cannot_do: the 办不成事 case the gateway filed for it

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def resume_pending(self) -> bool:
        """Closed by staff, but the gateway has not yet had Rasa resume the conversation."""
        return self.status == TicketStatus.closed and self.returned_at is None

    def waited(self, now: float | None = None) -> float:
        return (time.time() if now is None else now) - self.created_at
