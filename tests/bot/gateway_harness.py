"""An in-process gateway for async tests: the real app (lifespan included) behind httpx.ASGITransport,
with Rasa and the action server played by an httpx.MockTransport handler."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx

from bot.app import create_app
from bot.config import Settings

Handler = Callable[[httpx.Request], Any]  # may be async


@asynccontextmanager
async def running_gateway(
    settings: Settings, handler: Handler, client: tuple[str, int] = ("203.0.113.7", 40000)
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, transport=httpx.MockTransport(handler))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
            yield http
