"""``python -m knowledge validate``: check the catalogue, manual and phrasings files.

Prints one ``file:field: message`` line per error and a one-line summary; exit
code 1 on any error, else 0. Checks: every file parses and matches the
``Theme`` schema, the code in the file name matches the record, all 58 official
codes are present, provenance rules (names_only has no guide facts,
other_region has a caveat, hand_written codes start with ``SYX-``), and the
phrasings files' shape (``phrasings: [str, ...]`` for a known code).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from knowledge.domains import DOMAINS, HAND_WRITTEN_PREFIX, OFFICIAL_CODES
from knowledge.models import Provenance, Theme
from knowledge.problems import Problem
from knowledge.store import catalogue_dir, phrasings_dir_for
from knowledge.yamlio import load_file

MANUAL_DIR = Path(__file__).resolve().parent / "manual"




def _display(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def _loc(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(record)"


def check_theme_file(path: Path, errors: list[Problem]) -> Theme | None:
    """Parse and schema-check one theme file; append errors; return the theme if valid."""
    name = _display(path)
    try:
        data = load_file(path)
    except Exception as exc:  # noqa: BLE001 - every YAML problem is reported
        errors.append(Problem(name, "(yaml)", str(exc).replace("\n", " ")))
        return None
    if not isinstance(data, dict):
        errors.append(Problem(name, "(record)", "expected a mapping of fields"))
        return None
    try:
        theme = Theme.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            errors.append(Problem(name, _loc(err["loc"]), err["msg"]))
        return None
    if theme.code != path.stem:
        errors.append(Problem(name, "code", f"record code {theme.code} does not match the file name {path.stem}"))
    errors.extend(Problem(name, f, m) for f, m in rule_errors(theme))
    return theme


def rule_errors(theme: Theme) -> list[tuple[str, str]]:
    """Provenance and consistency rules beyond the schema."""
    out: list[tuple[str, str]] = []
    if theme.domain is not None and theme.domain not in DOMAINS:
        out.append(("domain", f"unknown domain {theme.domain!r} (allowed: {', '.join(DOMAINS)})"))
    if theme.provenance is Provenance.hand_written:
        if not theme.code.startswith(HAND_WRITTEN_PREFIX):
            out.append(("code", f"hand_written themes need a {HAND_WRITTEN_PREFIX} code"))
        if not theme.notes:
            out.append(("notes", "hand_written themes must say they are hand-written and must be confirmed"))
    elif theme.code not in OFFICIAL_CODES:
        out.append(("code", "not one of the 58 official theme codes"))
    if theme.provenance is Provenance.names_only:
        if theme.materials:
            out.append(("materials", "names_only themes must not list materials"))
        if theme.department.lead:
            out.append(("department.lead", "names_only themes have no known lead department"))
        if theme.time_limit.raw or theme.time_limit.working_days is not None:
            out.append(("time_limit", "names_only themes have no known time limit"))
        if not theme.notes:
            out.append(("notes", "names_only themes must say that no local guide is available"))
    if theme.provenance is Provenance.other_region:
        if theme.region is None or not theme.region.caveat:
            out.append(("region.caveat", "other_region themes need a caveat"))
        elif theme.region.is_county_own:
            out.append(("region.is_county_own", "other_region themes cannot be the county's own"))
    if theme.provenance is Provenance.county and (theme.region is None or not theme.region.is_county_own):
        out.append(("region.is_county_own", "county themes must have a county region"))
    tl = theme.time_limit
    if tl.working_days is not None and tl.raw is not None and str(tl.working_days) != tl.raw.split(".")[0]:
        out.append(("time_limit.working_days", f"{tl.working_days} does not match raw {tl.raw!r}"))
    for i, m in enumerate(theme.materials):
        if m.necessity.value == "unknown" and not m.raw_necessity:
            out.append((f"materials.{i}.raw_necessity", "unknown necessity needs the raw value"))
    return out


def check_phrasings_file(path: Path, known: set[str], errors: list[Problem]) -> None:
    name = _display(path)
    try:
        data = load_file(path)
    except Exception as exc:  # noqa: BLE001
        errors.append(Problem(name, "(yaml)", str(exc).replace("\n", " ")))
        return
    if not isinstance(data, dict):
        errors.append(Problem(name, "(record)", "expected a mapping with a 'phrasings' list"))
        return
    extra = sorted(set(data) - {"phrasings", "code"})
    if extra:
        errors.append(Problem(name, extra[0], "unexpected field (allowed: phrasings, code)"))
    if "code" in data and data["code"] != path.stem:
        errors.append(Problem(name, "code", f"{data['code']} does not match the file name {path.stem}"))
    if path.stem not in known:
        errors.append(Problem(name, "(file)", f"no catalogue theme with code {path.stem}"))
    items = data.get("phrasings")
    if not isinstance(items, list):
        errors.append(Problem(name, "phrasings", "missing or not a list"))
        return
    seen: set[str] = set()
    for i, item in enumerate(items):
        if not isinstance(item, str) or not item.strip():
            errors.append(Problem(name, f"phrasings.{i}", "must be a non-empty string"))
        elif item.strip() in seen:
            errors.append(Problem(name, f"phrasings.{i}", f"duplicate phrasing {item.strip()!r}"))
        else:
            seen.add(item.strip())


def validate(
    catalogue: Path | None = None, phrasings: Path | None = None, manual: Path | None = None
) -> tuple[list[Problem], int]:
    """All errors and the number of theme files checked."""
    folder = catalogue if catalogue is not None else catalogue_dir()
    phr = phrasings if phrasings is not None else phrasings_dir_for(catalogue)
    man = manual if manual is not None else (MANUAL_DIR if catalogue is None else None)
    errors: list[Problem] = []
    if not folder.is_dir():
        return [Problem(_display(folder), "(folder)", "catalogue folder not found; run python -m knowledge import")], 0
    files = sorted(folder.glob("*.yml"))
    themes = {}
    for path in files:
        theme = check_theme_file(path, errors)
        if theme is not None:
            themes[theme.code] = theme
    codes = {p.stem for p in files}
    for code in OFFICIAL_CODES:
        if code not in codes:
            errors.append(Problem(_display(folder / f"{code}.yml"), "(file)", "official theme missing from the catalogue"))
    checked = len(files)
    if man is not None and man.is_dir():
        for path in sorted(man.glob("*.yml")):
            checked += 1
            theme = check_theme_file(path, errors)
            if theme is not None and theme.provenance is not Provenance.hand_written:
                errors.append(Problem(_display(path), "provenance", "manual themes must be hand_written"))
            if theme is not None and not (folder / path.name).is_file():
                errors.append(Problem(_display(path), "(file)", "not in the catalogue; re-run the import"))
    if phr.is_dir():
        for path in sorted(phr.glob("*.yml")):
            checked += 1
            check_phrasings_file(path, codes, errors)
    return errors, checked


def run_validate(
    catalogue: Path | None = None, phrasings: Path | None = None, manual: Path | None = None
) -> int:
    errors, checked = validate(catalogue, phrasings, manual)
    for err in errors:
        print(err)
    status = "OK" if not errors else "FAILED"
    print(f"validate {status}: {checked} file(s) checked, {len(errors)} error(s)")
    return 1 if errors else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run_validate())
