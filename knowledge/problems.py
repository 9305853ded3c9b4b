"""One reported problem in a data file, printed as ``file:field: message``.

Shared by the importer (bad input files) and the validator (bad catalogue files).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    file: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.field}: {self.message}"
