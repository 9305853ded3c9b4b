"""Shared by the browser tests (staff console, kiosk): Debian's chromium through Playwright, and
records calls made from a test whose thread Playwright's sync API already runs an event loop in."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

import pytest

from records.client import async_client

T = TypeVar("T")


def run_records(redis_url: str, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run one records coroutine against ``redis_url`` on a loop of its own (another thread)."""

    async def main() -> T:
        client = async_client(redis_url, max_connections=4)
        try:
            return await work(client)
        finally:
            await client.aclose()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Debian chromium (never a downloaded browser); the test fails, with what to do,
    when it is not installed."""
    playwright_sync = pytest.importorskip("playwright.sync_api")
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is not installed: run 'make setup-test' (apt-get install chromium).")
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()
