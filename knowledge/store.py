"""Load the catalogue (``knowledge/catalogue/*.yml``) as ``Theme`` objects.

Citizen phrasings from ``knowledge/phrasings/<CODE>.yml`` (``phrasings: [...]``)
are merged into ``Theme.phrasings``; a missing file means no phrasings. The
parsed result is cached per process (keyed by the folders and the files'
modification times), so repeated calls are cheap.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from knowledge import config
from knowledge.models import Theme
from knowledge.yamlio import load_file

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_CATALOGUE_DIR = PACKAGE_DIR / "catalogue"  # the default of KNOWLEDGE_CATALOGUE_DIR


def catalogue_dir() -> Path:
    """``KNOWLEDGE_CATALOGUE_DIR`` (see knowledge.config) or ``knowledge/catalogue``."""
    return config.catalogue_dir()


def phrasings_dir_for(catalogue: Path | None) -> Path:
    """``KNOWLEDGE_PHRASINGS_DIR`` when set (or when loading the default catalogue),
    else the ``phrasings`` folder next to the given catalogue folder."""
    if catalogue is None or os.environ.get("KNOWLEDGE_PHRASINGS_DIR"):
        return config.phrasings_dir()
    return Path(catalogue).parent / "phrasings"


_cache: dict[tuple[Any, ...], dict[str, Theme]] = {}


def clear_cache() -> None:
    _cache.clear()


def _stamp(folder: Path) -> tuple[tuple[str, int, int], ...]:
    if not folder.is_dir():
        return ()
    return tuple(
        (p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(folder.glob("*.yml"))
    )


def read_phrasings(path: Path) -> list[str]:
    """The ``phrasings`` list of one phrasings file (non-strings and blanks dropped)."""
    data = load_file(path)
    if data is None:
        return []
    if not isinstance(data, dict) or not isinstance(data.get("phrasings", []), list):
        raise ValueError(f"{path}: expected a mapping with a 'phrasings' list")
    return [p.strip() for p in data.get("phrasings") or [] if isinstance(p, str) and p.strip()]


def _merge(existing: list[str], extra: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for p in [*existing, *extra]:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out


def load_catalogue(path: Path | None = None, phrasings_dir: Path | None = None) -> dict[str, Theme]:
    """All themes of the catalogue folder, by code (sorted), with phrasings merged.

    Raises ``FileNotFoundError`` when the folder does not exist and ``ValueError``
    (pydantic's ``ValidationError``) when a file does not match the schema; run
    ``python -m knowledge validate`` for a full report.
    """
    folder = Path(path) if path is not None else catalogue_dir()
    if not folder.is_dir():
        raise FileNotFoundError(f"catalogue folder not found: {folder}")
    phr = Path(phrasings_dir) if phrasings_dir is not None else phrasings_dir_for(path)
    key = (str(folder.resolve()), str(phr.resolve()), _stamp(folder), _stamp(phr))
    cached = _cache.get(key)
    if cached is not None:
        return dict(cached)

    themes: dict[str, Theme] = {}
    for file in sorted(folder.glob("*.yml")):
        theme = Theme.model_validate(load_file(file))
        themes[theme.code] = theme
    if phr.is_dir():
        for file in sorted(phr.glob("*.yml")):
            code = file.stem
            if code not in themes:
                log.warning("phrasings for unknown theme code %s ignored (%s)", code, file)
                continue
            try:
                extra = read_phrasings(file)
            except Exception as exc:  # noqa: BLE001 - a bad phrasings file must not break loading
                log.warning("phrasings file ignored: %s", exc)
                continue
            theme = themes[code]
            themes[code] = theme.model_copy(update={"phrasings": _merge(theme.phrasings, extra)})
    result = {code: themes[code] for code in sorted(themes)}
    if len(_cache) >= 8:  # old states (files changed since) are never asked for again
        _cache.clear()
    _cache[key] = result
    return dict(result)
