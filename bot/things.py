"""The things API: search the catalogue of "one things" and fetch one theme.

No ``from __future__ import annotations`` here: the route signatures use the runtime
``settings`` in their annotations, which FastAPI must evaluate.

Backed by ``knowledge.service.get_service()``. Building the service (catalogue + index, maybe an
embedding model) is slow, so it happens in a worker thread: started in the background at startup
(``KNOWLEDGE_PRELOAD=1``) or on first use; a failed load is retried on a request at least
5 seconds later (requests meanwhile get 503 ``things_unavailable``).
Searches run in the thread pool so the event loop never blocks on them.
"""

import asyncio
import logging
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from bot import messages
from bot.config import Settings
from bot.schemas import ApiError, ErrorResponse, ThingHit, ThingsResponse

log = logging.getLogger(__name__)

# Returns a knowledge.service.KnowledgeService (typed loosely: knowledge is imported lazily).
Loader = Callable[[], Any]

MAX_K = 20
CODE_MAX_CHARS = 64


def default_loader() -> Any:
    from knowledge.service import get_service  # heavy: imported in the worker thread

    return get_service()


class KnowledgeProvider:
    """Loads the knowledge service once, off the event loop, and hands it out."""

    def __init__(self, loader: Loader = default_loader, retry_after_seconds: float = 5.0) -> None:
        self._loader = loader
        self._retry_after = retry_after_seconds
        self._task: asyncio.Task[Any] | None = None
        self._failed_at = float("-inf")  # event-loop time of the last failed load

    @property
    def state(self) -> str:
        """``idle`` / ``loading`` / ``ready`` / ``failed``."""
        if self._task is None:
            return "idle"
        if not self._task.done():
            return "loading"
        if self._task.cancelled() or self._task.exception() is not None:
            return "failed"
        return "ready"

    def start(self) -> None:
        """Start loading (must run inside the event loop). No-op while loading or once loaded."""
        if self.state in ("loading", "ready"):
            return
        loop = asyncio.get_running_loop()
        if self.state == "failed" and loop.time() - self._failed_at < self._retry_after:
            return  # failed a moment ago: report that failure instead of hammering the loader
        self._task = asyncio.create_task(asyncio.to_thread(self._loader), name="knowledge-load")
        self._task.add_done_callback(self._log_outcome)

    def _log_outcome(self, task: asyncio.Task[Any]) -> None:
        if task.cancelled():
            return
        exc = task.exception()  # also marks it retrieved
        if exc is not None:
            self._failed_at = asyncio.get_running_loop().time()
            log.error("knowledge service failed to load: %r", exc)
        else:
            log.info("knowledge service ready")

    async def get(self, wait_seconds: float) -> Any:
        """The service, waiting up to ``wait_seconds`` for a load in progress; ApiError 503 otherwise."""
        self.start()
        assert self._task is not None
        try:
            async with asyncio.timeout(wait_seconds):
                return await asyncio.shield(self._task)
        except TimeoutError:
            raise ApiError(503, "things_loading", messages.THINGS_LOADING) from None
        except Exception:
            raise ApiError(503, "things_unavailable", messages.THINGS_UNAVAILABLE) from None

    async def aclose(self) -> None:
        # A load running in a thread cannot be interrupted; drop our interest in it.
        if self._task is not None and not self._task.done():
            self._task.cancel()


def _provider(request: Request) -> KnowledgeProvider:
    return request.app.state.knowledge


_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "unknown code"},
    422: {"model": ErrorResponse, "description": "invalid parameter"},
    503: {"model": ErrorResponse, "description": "knowledge service loading or unavailable"},
}


def create_router(settings: Settings) -> APIRouter:
    router = APIRouter(prefix="/api/things", tags=["things"])
    wait = settings.chat_timeout_seconds

    @router.get("", response_model=ThingsResponse, responses=_ERRORS)
    async def search_things(
        request: Request,
        q: Annotated[
            str, Query(min_length=1, max_length=settings.chat_max_chars, description="what to look for")
        ],
        k: Annotated[int, Query(ge=1, le=MAX_K, description="how many results")] = 5,
    ) -> JSONResponse:
        query = q.strip()
        if not query:
            raise ApiError(422, "empty_field", messages.empty_field("q"), "q")
        service = await _provider(request).get(wait)
        try:
            hits = await asyncio.to_thread(service.search, query, k)
        except Exception:
            log.exception("knowledge search failed")
            raise ApiError(503, "things_unavailable", messages.THINGS_UNAVAILABLE) from None
        results = [ThingHit(code=h.code, title=h.title, score=float(h.score)) for h in hits[:k]]
        return JSONResponse(ThingsResponse(results=results).model_dump(mode="json"))

    @router.get("/{code}", responses=_ERRORS)
    async def get_thing(
        request: Request, code: Annotated[str, Path(description="official theme code")]
    ) -> JSONResponse:
        if len(code) > CODE_MAX_CHARS:
            raise ApiError(404, "not_found", messages.thing_not_found(code[:CODE_MAX_CHARS] + "…"), "code")
        service = await _provider(request).get(wait)
        theme = service.get(code)
        if theme is None:
            raise ApiError(404, "not_found", messages.thing_not_found(code), "code")
        return JSONResponse(theme.model_dump(mode="json"))

    return router
