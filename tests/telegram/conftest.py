"""Fixtures for the Telegram channel: the Bot API stand-in, and the channel running in-process on
the test's event loop against the real stack (Redis, Rasa, action server, gateway)."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
from standin import StandIn

from bot.config import Settings
from bot.telegram.wiring import serve

TOKEN = "123456:TEST-stand-in-token"
_chats = itertools.count(random.randint(10_000, 90_000) * 1000)


def new_chat() -> int:
    """A chat id no other test (or earlier run on the same stack) used."""
    return next(_chats)


@pytest.fixture
def standin() -> Iterator[StandIn]:
    server = StandIn()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def channel_settings(stack, standin: StandIn) -> Settings:
    return Settings.from_env(stack.config.env()).model_copy(
        update={"telegram_token": TOKEN, "telegram_api_base": standin.base_url}
    )


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[asyncio.Task[int]]:
    """The channel (``bot.telegram.wiring.serve``) on this loop until the block ends."""
    stop, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(serve(settings, stop, poll_timeout=1, ready=ready))
    waiter = asyncio.create_task(ready.wait())
    done, _ = await asyncio.wait({task, waiter}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
    if task in done or not done:
        waiter.cancel()
        stop.set()
        raise AssertionError(f"the channel did not start: {task.result() if task.done() else 'timeout'}")
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


@pytest.fixture
async def tg(channel_settings: Settings, standin: StandIn) -> AsyncIterator[StandIn]:
    async with running(channel_settings):
        yield standin
