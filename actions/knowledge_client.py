"""Access to the knowledge service, behind a factory that tests can replace.

The real service is ``knowledge.service.get_service()`` (see docs/CONTRACTS.md). Only the
parts the actions use are described here, so a small fake can stand in for it in unit tests:
``monkeypatch.setattr(actions.knowledge_client, "service_factory", lambda: fake)``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from knowledge.models import Theme


class HitLike(Protocol):
    code: str
    title: str
    score: float


class AnswerLike(Protocol):
    verdict: Any  # knowledge.service.Verdict (a str Enum) or a plain string
    hits: Sequence[HitLike]


class ResolutionLike(Protocol):
    """``knowledge.resolve.Resolution``: the one decision the actions render."""

    verdict: Any  # sure / choose / guess / two_things / not_a_thing / none (Enum or string)
    themes: Sequence[HitLike]
    kind: Any  # complaint / consumer / suggestion / question / bancheng_candidate / chitchat / None
    department: str | None
    about: HitLike | None


class KnowledgeLike(Protocol):
    def match(self, query: str, k: int = 3) -> AnswerLike: ...

    def resolve(self, text: str) -> ResolutionLike: ...

    def get(self, code: str) -> Theme | None: ...


def _real_service() -> KnowledgeLike:
    from knowledge.service import get_service  # imported lazily: it loads models

    return get_service()


# Module-level factory: tests monkeypatch this.
service_factory: Callable[[], KnowledgeLike] = _real_service


def verdict_name(answer: AnswerLike | ResolutionLike) -> str:
    """The verdict's name ('sure', 'choose', 'not_a_thing' …), whether an Enum or a string."""
    return str(getattr(answer.verdict, "value", answer.verdict))


async def match(query: str, k: int = 3) -> AnswerLike:
    """Run the (blocking) match off the event loop."""

    def _run() -> AnswerLike:
        return service_factory().match(query, k=k)

    return await asyncio.to_thread(_run)


async def resolve(text: str) -> ResolutionLike:
    """``knowledge.resolve`` (through the service) off the event loop: the whole decision."""

    def _run() -> ResolutionLike:
        return service_factory().resolve(text)

    return await asyncio.to_thread(_run)


async def two_things(parts: Sequence[str], whole: str) -> list[str] | None:
    """The two theme codes a checklist request names (``knowledge.resolve.pair_of``), else None."""
    from knowledge.resolve import pair_of

    def _run() -> list[str] | None:
        return pair_of(parts, whole, service_factory())

    return await asyncio.to_thread(_run)


async def get_theme(code: str) -> Theme | None:
    def _run() -> Theme | None:
        return service_factory().get(code)

    return await asyncio.to_thread(_run)


async def sure_hit(query: str) -> HitLike | None:
    """The one thing the message is surely about, else None (raises what the service raises):
    the answer of a ``sure`` (or ``two_things``) resolution, or what a not-a-thing message (a
    办不成事 story) is ``about`` when the decision names it."""
    res = await resolve(query)
    themes = list(res.themes)
    if verdict_name(res) in ("sure", "two_things") and themes:
        return themes[0]
    return getattr(res, "about", None)


def kind_name(res: ResolutionLike) -> str:
    """The not-a-thing kind's name ('complaint', 'consumer' …), '' when there is none."""
    kind = getattr(res, "kind", None)
    return str(getattr(kind, "value", kind)) if kind else ""
