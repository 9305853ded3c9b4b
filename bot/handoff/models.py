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
    picked_up = "picked_up"  # a staff member took it (staff tooling, later issue)
    resumed = "resumed"  # the person went back to the assistant (asked for it, or waited too long)
    closed = "closed"  # staff finished (staff tooling, later issue)


OPEN_STATUSES = (TicketStatus.waiting, TicketStatus.picked_up)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MatchedThing(_Model):
    code: str
    title: str


class TranscriptLine(_Model):
    role: Literal["user", "bot"]
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

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def waited(self, now: float | None = None) -> float:
        return (time.time() if now is None else now) - self.created_at
