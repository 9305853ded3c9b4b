"""Fixtures for end-to-end tests: the real gateway of a stack started on free ports."""

from __future__ import annotations

import httpx
import pytest


@pytest.fixture(scope="session")
def gateway(stack) -> httpx.Client:
    with httpx.Client(base_url=stack.config.gateway_url, timeout=60) as client:
        yield client
