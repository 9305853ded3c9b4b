"""Deterministic YAML for catalogue files (same data -> same bytes) and fast loading."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

try:  # libyaml is much faster; fall back to the pure-Python classes
    from yaml import CSafeDumper as _BaseDumper
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - depends on the PyYAML build
    from yaml import SafeDumper as _BaseDumper  # type: ignore[assignment]
    from yaml import SafeLoader  # type: ignore[assignment]


class _Dumper(_BaseDumper):
    pass


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # Multi-line official text is easier to review as a literal block.
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _str_representer)


def dump(data: Any) -> str:
    """Dump with fixed field order (insertion order), unicode kept, no line wrapping."""
    return yaml.dump(
        data,
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=100000,
        indent=2,
    )


def load_text(text: str) -> Any:
    return yaml.load(text, Loader=SafeLoader)  # noqa: S506 - SafeLoader / CSafeLoader


def load_file(path: Path) -> Any:
    return load_text(path.read_text(encoding="utf-8"))
