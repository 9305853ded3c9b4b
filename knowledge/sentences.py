"""Sentences of a long message, with spaCy's rule-based sentencizer over a blank ``zh`` pipeline.

The pipeline has no model and downloads nothing: spaCy's ``char`` segmenter (one token per
character, the way the rest of knowledge/ matches Chinese) and the ``sentencizer``, which ends a
sentence after a run of the marks in ``SENTENCE_END``. A run stays with its sentence ("要办么子？！",
"好的……"), where the regular expression this replaced left a lone "！" as a sentence of its own.
Figures in docs/spacy.md.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

# Where a sentence may end: full-width and ASCII stops, question and exclamation marks,
# semicolons, and line breaks (board messages and chat both use them as sentence breaks).
SENTENCE_END: tuple[str, ...] = ("。", "！", "？", "!", "?", "；", ";", "\n")

_lock = threading.Lock()


@lru_cache(maxsize=1)
def _pipeline() -> Any:  # spacy.language.Language; the import is slow, so it waits for first use
    import spacy

    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "char"}}})
    nlp.add_pipe("sentencizer", config={"punct_chars": list(SENTENCE_END)})
    return nlp


def sentences(text: str) -> list[str]:
    """The non-empty sentences of ``text``, stripped, in order."""
    if not text or not text.strip():
        return []
    return list(_split(text))


@lru_cache(maxsize=512)
def _split(text: str) -> tuple[str, ...]:
    # resolve() asks for the sentences of one message several times; a long one costs a few ms.
    nlp = _pipeline()
    with _lock:  # a spaCy pipeline's vocabulary is not meant to be grown from two threads at once
        doc = nlp(text)
    return tuple(s.text.strip() for s in doc.sents if s.text.strip())


def warm() -> None:
    """Load spaCy now (service start-up) rather than on the first long message."""
    sentences("。")
