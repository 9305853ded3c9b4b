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


class KnowledgeLike(Protocol):
    def match(self, query: str, k: int = 3) -> AnswerLike: ...

    def get(self, code: str) -> Theme | None: ...


def _real_service() -> KnowledgeLike:
    from knowledge.service import get_service  # imported lazily: it loads models

    return get_service()


# Module-level factory: tests monkeypatch this.
service_factory: Callable[[], KnowledgeLike] = _real_service


def verdict_name(answer: AnswerLike) -> str:
    """'sure' / 'ambiguous' / 'none', whether the verdict is an Enum or a string."""
    return str(getattr(answer.verdict, "value", answer.verdict))


async def match(query: str, k: int = 3) -> AnswerLike:
    """Run the (blocking) match off the event loop."""

    def _run() -> AnswerLike:
        return service_factory().match(query, k=k)

    return await asyncio.to_thread(_run)


async def get_theme(code: str) -> Theme | None:
    def _run() -> Theme | None:
        return service_factory().get(code)

    return await asyncio.to_thread(_run)


async def sure_hit(query: str) -> HitLike | None:
    """The best hit when the search is sure of it, else None (raises what the service raises)."""
    answer = await match(query, k=1)
    hits = list(answer.hits)
    return hits[0] if verdict_name(answer) == "sure" and hits else None
