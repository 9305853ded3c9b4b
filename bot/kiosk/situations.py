"""The kiosk's start-screen situations: plain labels mapped to theme codes (``situations.yml``,
``KIOSK_SITUATIONS_FILE``), checked against the catalogue once, at start-up.

Each entry becomes ``{"label", "code", "title", "message"}``: ``title`` is the catalogue's official
title (never typed in the data file), ``message`` what a tap sends through the chat ("我想办<title>").
An entry whose code is not in the catalogue, or without a label, is left out and logged as an error.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger(__name__)

DEFAULT_FILE = Path(__file__).resolve().parent / "situations.yml"
MAX_LABEL_CHARS = 12


def load_situations(path: Path, titles: Mapping[str, str]) -> list[dict[str, str]]:
    """The valid situations of ``path``; ``titles`` maps theme code -> official title."""
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        log.error("kiosk situations file %s unreadable: %s", path, exc)
        return []
    items = data.get("situations") if isinstance(data, dict) else None
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for item in items if isinstance(items, list) else []:
        label = str(item.get("label", "")).strip() if isinstance(item, dict) else ""
        code = str(item.get("code", "")).strip() if isinstance(item, dict) else ""
        if not label or len(label) > MAX_LABEL_CHARS or code not in titles or code in seen:
            log.error("kiosk situation %r left out: no label, label too long, unknown or repeated code", item)
            continue
        seen.add(code)
        out.append({"label": label, "code": code, "title": titles[code], "message": f"我想办{titles[code]}"})
    return out


def catalogue_titles() -> dict[str, str]:
    from knowledge.store import load_catalogue  # YAML only: no search index or model

    return {code: theme.title for code, theme in load_catalogue().items()}
