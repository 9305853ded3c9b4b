"""Helpers for end-to-end tests: talk to the real gateway, read the official source data."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("HUNAN_DATA", ROOT.parent / "shared" / "data" / "hunan-onething"))


def official_guide(code: str) -> dict:
    """The raw official guide JSON for a theme: the source of truth the answers must match."""
    files = sorted((DATA / "raw" / code).glob("*.json"))
    assert files, f"no official guide for {code} under {DATA}"
    return json.loads(files[0].read_text(encoding="utf-8"))["data"]


def say(gateway: httpx.Client, sender: str, message: str) -> tuple[list[dict], str]:
    resp = gateway.post("/api/chat", json={"sender": sender, "message": message})
    assert resp.status_code == 200, resp.text
    messages = resp.json()
    assert isinstance(messages, list)
    return messages, "\n".join(m.get("text") or "" for m in messages)
