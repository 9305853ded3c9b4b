"""Assertions shared by the gateway tests."""

from __future__ import annotations

import re
from typing import Any

import httpx

CJK = re.compile(r"[\u4e00-\u9fff]")


def assert_error(
    response: httpx.Response, status: int, code: str, field: str | None = None
) -> dict[str, Any]:
    """The response is our JSON error with a Chinese message; returns the ``error`` object."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "field"}
    assert error["code"] == code, error
    assert error["field"] == field, error
    assert CJK.search(error["message"]), error["message"]
    return error
