"""Case and rating records as stored in Redis (documented in docs/cases.md)."""

from __future__ import annotations

import time
from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1


class CaseKind(str, Enum):
    bancheng = "bancheng"  # 办不成事: a matter that could not be done (the 办不成事 window calls back)
    complaint = "complaint"  # about a department, a delay or a staff member (12345 handles it)
    bad_rating = "bad_rating"  # follow-up of a rating 不满意 / 非常不满意


class CaseStatus(str, Enum):
    new = "new"  # filed by the assistant, nobody has looked at it yet
    in_progress = "in_progress"  # staff tooling, later
    closed = "closed"  # staff tooling, later


# Letters in front of the daily sequence number of a case id, e.g. BC20261126-0003.
CASE_ID_PREFIX = {CaseKind.bancheng: "BC", CaseKind.complaint: "TS", CaseKind.bad_rating: "CP"}

# Rating levels: 5 = best. The labels are what the person sees on the buttons.
RATING_LABELS = {5: "非常满意", 4: "满意", 3: "一般", 2: "不满意", 1: "非常不满意"}
LOW_RATING_MAX = 2  # this level or worse gets a "what went wrong?" follow-up case


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Case(_Model):
    schema_version: int = SCHEMA_VERSION
    id: str
    created_at: float = Field(default_factory=time.time)  # unix seconds
    kind: CaseKind
    status: CaseStatus = CaseStatus.new
    channel: str = "rest"
    sender: str
    current_thing: str | None = None  # code of the one thing the conversation was about
    # 办不成事 form answers.
    matter: str | None = None
    place: str | None = None
    story: str | None = None
    contact_consent: bool = False
    contact: str | None = None  # phone; only stored with consent
    # Complaints and bad-rating follow-ups: the person's own words.
    text: str | None = None
    rating_id: str | None = None  # bad_rating: the rating this case follows up
    rating: int | None = None
    ticket_id: str | None = None  # bancheng filed when staff closed a handoff ticket as 无法办理


class Rating(_Model):
    schema_version: int = SCHEMA_VERSION
    id: str
    created_at: float = Field(default_factory=time.time)
    level: int = Field(ge=1, le=5)
    label: str
    theme: str | None = None  # current_thing when the rating was given
    channel: str = "rest"
    sender: str
    case_id: str | None = None  # the bad_rating case, once filed
    # Who served the person: the assistant, or staff (a rating asked for when staff handed the
    # conversation back). Older ratings have no field and load as "assistant".
    served_by: Literal["assistant", "staff"] = "assistant"


def rating_label(level: int) -> str:
    return RATING_LABELS[level]
