"""Health of the services the gateway depends on: Redis, Rasa and the action server.

Each check has a short timeout (``HEALTH_TIMEOUT_SECONDS``), never raises, and reports
``ServiceHealth(ok, detail)``; ``/healthz`` runs them concurrently.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from redis.asyncio import Redis

from bot.config import Settings
from bot.schemas import HealthReport, ServiceHealth

log = logging.getLogger(__name__)

Judge = Callable[[httpx.Response], ServiceHealth]


def _short(exc: BaseException, limit: int = 120) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _judge_status_ok(response: httpx.Response) -> ServiceHealth:
    if response.status_code == 200:
        return ServiceHealth(ok=True, detail="HTTP 200")
    return ServiceHealth(ok=False, detail=f"HTTP {response.status_code}")


async def probe_http(
    http: httpx.AsyncClient,
    url: str,
    timeout: float,
    *,
    params: dict[str, str] | None = None,
    judge: Judge = _judge_status_ok,
) -> ServiceHealth:
    """GET ``url`` and judge the response; connection problems become ``ok=False``."""
    try:
        async with asyncio.timeout(timeout):
            response = await http.get(url, params=params, timeout=timeout)
    except (TimeoutError, httpx.TimeoutException):
        return ServiceHealth(ok=False, detail=f"timeout after {timeout:g}s")
    except httpx.HTTPError as exc:
        return ServiceHealth(ok=False, detail=f"unreachable: {_short(exc)}")
    return judge(response)


def _judge_rasa_status(response: httpx.Response) -> ServiceHealth:
    """``GET /status`` (needs --enable-api and the token): up only if a model is loaded."""
    if response.status_code != 200:
        hints = {401: " (wrong RASA_TOKEN?)", 403: " (wrong RASA_TOKEN?)", 409: " (no model loaded)"}
        hint = hints.get(response.status_code, "")
        return ServiceHealth(ok=False, detail=f"HTTP {response.status_code}{hint}")
    try:
        body: Any = response.json()
    except ValueError:
        return ServiceHealth(ok=False, detail="status reply is not JSON")
    model = body.get("model_file") if isinstance(body, dict) else None
    if not model:
        return ServiceHealth(ok=False, detail="no model loaded")
    return ServiceHealth(ok=True, detail=f"model {model}")


def _judge_rasa_root(response: httpx.Response) -> ServiceHealth:
    if response.status_code != 200:
        return ServiceHealth(ok=False, detail=f"HTTP {response.status_code}")
    return ServiceHealth(ok=True, detail=response.text.strip()[:80] or "HTTP 200")


async def check_redis(redis: Redis, timeout: float) -> ServiceHealth:
    try:
        async with asyncio.timeout(timeout):
            pong = await redis.ping()
    except TimeoutError:
        return ServiceHealth(ok=False, detail=f"timeout after {timeout:g}s")
    except Exception as exc:  # a health check reports, it never raises
        return ServiceHealth(ok=False, detail=_short(exc))
    return ServiceHealth(ok=bool(pong), detail="PONG" if pong else "no PONG")


class HealthChecker:
    """Checks the gateway's dependencies with the shared clients."""

    def __init__(self, http: httpx.AsyncClient, redis: Redis, settings: Settings) -> None:
        self._http = http
        self._redis = redis
        self._settings = settings
        self._timeout = settings.health_timeout_seconds

    async def redis(self) -> ServiceHealth:
        return await check_redis(self._redis, self._timeout)

    async def rasa(self) -> ServiceHealth:
        base = self._settings.rasa_base_url
        token = self._settings.rasa_token
        if token:
            return await probe_http(
                self._http, f"{base}/status", self._timeout, params={"token": token}, judge=_judge_rasa_status
            )
        return await probe_http(self._http, f"{base}/", self._timeout, judge=_judge_rasa_root)

    async def action_server(self) -> ServiceHealth:
        return await probe_http(self._http, self._settings.action_server_health, self._timeout)

    async def report(self) -> HealthReport:
        redis, rasa, action_server = await asyncio.gather(self.redis(), self.rasa(), self.action_server())
        return build_report({"redis": redis, "rasa": rasa, "action_server": action_server})


def build_report(services: dict[str, ServiceHealth]) -> HealthReport:
    status = "ok" if all(s.ok for s in services.values()) else "degraded"
    return HealthReport(status=status, services=services)


router = APIRouter(tags=["health"])


@router.get(
    "/healthz",
    response_model=HealthReport,
    responses={503: {"model": HealthReport, "description": "at least one service is down"}},
)
async def healthz(request: Request) -> JSONResponse:
    checker: HealthChecker = request.app.state.health
    report = await checker.report()
    if report.status != "ok":
        down = ", ".join(f"{name}: {s.detail}" for name, s in report.services.items() if not s.ok)
        log.warning("health degraded: %s", down)
    return JSONResponse(report.model_dump(mode="json"), status_code=200 if report.status == "ok" else 503)
