"""Cut text longer than Telegram's limit (4,096 characters per message) at line breaks."""

from __future__ import annotations

MAX_CHARS = 4096  # Telegram's limit for one message's text (after entity parsing; we send plain text)


def split_text(text: str, limit: int = MAX_CHARS) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut at line breaks where possible.

    A single line longer than ``limit`` is cut hard (at the limit). No piece is empty; joining the
    pieces with ``"\\n"`` gives the text back, except for the line breaks dropped at the cuts."""
    if limit < 1:
        raise ValueError("limit must be positive")
    if len(text) <= limit:
        return [text] if text else []
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:  # a line that alone is too long: cut it hard
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= limit:
            current = candidate
        else:
            pieces.append(current)
            current = line
    if current:
        pieces.append(current)
    return [p for p in pieces if p.strip()] or [text[:limit]]
