"""The checklist card as a file the person can show at the window.

The card comes from the action server (``custom.checklist``: ``codes``, ``title``, ``text``; the
gateway may add ``url`` / ``public_url``). It becomes a small A4 PDF made with fpdf2, in a CJK font:
``TELEGRAM_FONT`` when set, else Debian's WenQuanYi Micro Hei, else what ``fc-match`` offers for
Chinese. With no such font, a UTF-8 ``.txt`` file is sent instead (logged once per process).
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from fpdf import FPDF

from bot import messages

log = logging.getLogger(__name__)

WQY_MICROHEI = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
FONT_SUFFIXES = (".ttf", ".ttc", ".otf")
_told_no_font = False


@dataclass(frozen=True)
class Document:
    filename: str
    data: bytes
    caption: str
    mime: str


@lru_cache(maxsize=4)
def find_font(configured: str | None) -> Path | None:
    """The font file for Chinese: the configured one, WenQuanYi Micro Hei, or ``fc-match``'s."""
    if configured:
        path = Path(configured)
        if path.is_file():
            return path
        log.warning("telegram: TELEGRAM_FONT=%s is not a file; looking for another CJK font", configured)
    if WQY_MICROHEI.is_file():
        return WQY_MICROHEI
    if shutil.which("fc-match"):
        try:
            done = subprocess.run(
                ["fc-match", "-f", "%{file}", "sans-serif:lang=zh-cn"], capture_output=True, text=True, timeout=5
            )
        except (OSError, subprocess.SubprocessError):
            return None
        found = Path(done.stdout.strip())
        # fc-match always answers something: keep it only if it is a font file that covers Chinese.
        if done.returncode == 0 and found.suffix.lower() in FONT_SUFFIXES and found.is_file() and _has_cjk(found):
            return found
    return None


def _has_cjk(path: Path) -> bool:
    try:
        from fontTools.ttLib import TTFont

        font = TTFont(str(path), fontNumber=0, lazy=True)
        return ord("办") in font.getBestCmap()
    except Exception:  # noqa: BLE001 - any unreadable font simply does not count
        return False


def link_of(card: dict[str, Any], public_base_url: str | None) -> str | None:
    """The absolute link of the card, when there is one (``public_url``, or ``url`` + base)."""
    public = card.get("public_url")
    if isinstance(public, str) and public.startswith(("http://", "https://")):
        return public
    url = card.get("url")
    if not isinstance(url, str) or not url:
        return None
    if url.startswith(("http://", "https://")):
        return url
    if public_base_url and url.startswith("/"):
        return public_base_url.rstrip("/") + url
    return None  # a relative path means nothing in a chat


def card_lines(card: dict[str, Any], link: str | None) -> tuple[str, list[str]]:
    title = str(card.get("title") or messages.CHECKLIST_DEFAULT_TITLE)
    lines = [line for line in str(card.get("text") or "").splitlines() if line.strip()]
    lines += ["", messages.CHECKLIST_LINK_FOOTER]
    if link:
        lines += [messages.TG_CHECKLIST_LINK, link]
    return title, lines


def pdf_bytes(title: str, lines: list[str], font: Path, link: str | None = None) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.add_font("cjk", fname=str(font))
    pdf.set_font("cjk", size=18)
    pdf.multi_cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("cjk", size=13)
    for line in lines:
        if link and line == link:
            pdf.set_text_color(0, 0, 200)
            pdf.multi_cell(0, 8, line, link=link, new_x="LMARGIN", new_y="NEXT")
            pdf.set_text_color(0, 0, 0)
        else:
            pdf.multi_cell(0, 8, line or " ", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def checklist_document(card: dict[str, Any], public_base_url: str | None, font_setting: str | None) -> Document:
    """The file to send for a checklist card: a PDF, or a .txt when no CJK font is found."""
    global _told_no_font
    link = link_of(card, public_base_url)
    title, lines = card_lines(card, link)
    caption = messages.TG_CHECKLIST_CAPTION
    font = find_font(font_setting)
    if font is not None:
        try:
            return Document("材料清单.pdf", pdf_bytes(title, lines, font, link), caption, "application/pdf")
        except Exception as exc:  # noqa: BLE001 - a font fpdf2 cannot use: fall back to text
            log.warning("telegram: checklist PDF failed with font %s (%s); sending text", font, exc)
    elif not _told_no_font:
        _told_no_font = True
        log.warning("telegram: no CJK font found (set TELEGRAM_FONT or install fonts-wqy-microhei); "
                    "checklists are sent as .txt files")
    text = "\n".join([title, "", *lines]) + "\n"
    return Document("材料清单.txt", text.encode("utf-8"), caption, "text/plain")
