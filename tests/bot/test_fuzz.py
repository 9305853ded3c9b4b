"""10,000 malformed or hostile requests against an in-process gateway (real Redis; Rasa, the action
server and the knowledge service are healthy fakes): never a 5xx, every error our JSON in Chinese."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import httpx
from fuzz_cases import fuzz_cases, problem

from bot.app import create_app
from bot.config import Settings

SEED = 20261206
COUNT = 10_000


class HealthyFakes:
    """Rasa (webhook, /status), the action server's /health: all answer at once."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/webhooks/rest/webhook":
            body = json.loads(request.content)
            return httpx.Response(200, json=[{"recipient_id": body["sender"], "text": "好的"}])
        return httpx.Response(200, json={"status": "ok", "model_file": "m.tar.gz"})


class EmptyKnowledge:
    def search(self, query: str, k: int) -> list[Any]:
        return []

    def get(self, code: str) -> None:
        return None


async def test_ten_thousand_hostile_requests_get_no_5xx_and_json_errors(settings: Settings, redis_client) -> None:
    app = create_app(settings, transport=httpx.MockTransport(HealthyFakes()), knowledge_loader=EmptyKnowledge)
    statuses: Counter[int] = Counter()
    kinds: Counter[str] = Counter()
    problems: list[str] = []
    started = time.monotonic()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as http:
            for case in fuzz_cases(SEED, COUNT):
                response = await http.request(case.method, case.path, headers=case.headers, content=case.body)
                statuses[response.status_code] += 1
                kinds[case.kind] += 1
                found = problem(case, response.status_code, dict(response.headers), response.content)
                if found:
                    problems.append(found)
    elapsed = time.monotonic() - started
    print(f"\nfuzz (in-process): {sum(statuses.values())} requests in {elapsed:.1f}s; "
          f"by status {dict(sorted(statuses.items()))}; by kind {dict(sorted(kinds.items()))}")
    assert sum(statuses.values()) == COUNT
    assert not problems, problems[:10]
    assert not [s for s in statuses if s >= 500]
