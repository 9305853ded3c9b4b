"""Colloquial expansion of a query: the official words a person's everyday or dialect words mean.

``knowledge/colloquial.yml`` lists entries ``{say: regex, means: words}``; ``Colloquial.expand``
appends the ``means`` of every entry whose ``say`` matches the normalised query (乡里盖屋要办么子证
-> 乡里盖屋要办么子证 建房 农村建房 宅基地). The person's words are kept: the expansion only adds.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, field_validator

from knowledge import config


class Entry(BaseModel):
    """One way of speaking: a regular expression and the official words it means."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    say: str
    means: str

    @field_validator("say")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression ({exc}): {value}") from None
        return value

    @field_validator("means")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("means is empty")
        return value.strip()


@dataclass(frozen=True)
class Colloquial:
    entries: tuple[Entry, ...] = ()
    fingerprint: str = "none"

    def expand(self, query: str) -> str:
        """``query`` with the official words of every matching entry appended (once each)."""
        added: list[str] = []
        for entry in self.entries:
            if re.search(entry.say, query):
                added += [w for w in entry.means.split() if w not in query]
        return " ".join([query, *dict.fromkeys(added)]) if added else query


def load(path: Path | None = None) -> Colloquial:
    """The entries of ``path`` (default: ``config.colloquial_file()``); none when it is missing.
    A malformed file raises ValueError naming the file and the entry."""
    path = path or config.colloquial_file()
    if not path.is_file():
        return Colloquial()
    raw = path.read_bytes()
    data = yaml.safe_load(raw) or {}
    items = data.get("words") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ValueError(f"{path}: expected a mapping with a list under 'words'")
    entries = []
    for number, item in enumerate(items, 1):
        try:
            entries.append(Entry.model_validate(item))
        except ValueError as exc:
            raise ValueError(f"{path}: entry {number}: {exc}") from None
    return Colloquial(tuple(entries), hashlib.sha256(raw).hexdigest()[:16])
