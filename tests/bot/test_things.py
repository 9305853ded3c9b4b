"""GET /api/things and /api/things/{code}: validation, lazy loading, and the real knowledge service."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from bot_helpers import assert_error
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.config import Settings
from bot.schemas import ApiError
from bot.things import KnowledgeProvider
from knowledge.models import Provenance, Theme


class Hit:
    def __init__(self, code: str, title: str, score: float) -> None:
        self.code, self.title, self.score = code, title, score


class StubService:
    """The KnowledgeService interface over three themes; records the searches it was asked."""

    def __init__(self) -> None:
        self.themes = {
            c: Theme(code=c, title=t, provenance=Provenance.county)
            for c, t in [("A1", "退休“一件事”"), ("B2", "新生儿出生“一件事”"), ("C3", "企业开办“一件事”")]
        }
        self.searches: list[tuple[str, int]] = []

    def search(self, query: str, k: int = 5) -> list[Hit]:
        self.searches.append((query, k))
        hits = [
            Hit("B2", "新生儿出生“一件事”", 0.9),
            Hit("A1", "退休“一件事”", 0.5),
            Hit("C3", "企业开办“一件事”", 0.1),
        ]
        return hits[:k]

    def get(self, code: str) -> Theme | None:
        return self.themes.get(code)


def must_not_load() -> Any:
    raise AssertionError("the knowledge service must not be loaded for an invalid request")


@pytest.fixture
def make_client(settings: Settings) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(loader: Callable[[], Any], **overrides: Any) -> TestClient:
        client = TestClient(create_app(settings.model_copy(update=overrides), knowledge_loader=loader))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


# --- validation -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        ({}, "missing_field", "q"),
        ({"k": "3"}, "missing_field", "q"),
        ({"q": ""}, "empty_field", "q"),
        ({"q": "  \u3000 "}, "empty_field", "q"),
        ({"q": "办" * 4001}, "too_long", "q"),  # over CHAT_MAX_CHARS
        ({"q": "退休", "k": "0"}, "out_of_range", "k"),
        ({"q": "退休", "k": "21"}, "out_of_range", "k"),
        ({"q": "退休", "k": "-1"}, "out_of_range", "k"),
        ({"q": "退休", "k": "abc"}, "wrong_type", "k"),
        ({"q": "退休", "k": "1.5"}, "wrong_type", "k"),
    ],
)
def test_bad_search_parameters_are_422(
    make_client: Callable[..., TestClient], params: dict[str, str], code: str, field: str
) -> None:
    error = assert_error(make_client(must_not_load).get("/api/things", params=params), 422, code, field)
    if code == "too_long":
        assert "4000" in error["message"]
    if code == "out_of_range":
        assert "1" in error["message"] and "20" in error["message"]


def test_absurdly_long_code_is_404_without_loading(make_client: Callable[..., TestClient]) -> None:
    assert_error(make_client(must_not_load).get("/api/things/" + "X" * 5000), 404, "not_found", "code")


# --- behaviour over a stub service ------------------------------------------------------------------


def test_search_returns_hits_best_first_and_passes_k(make_client: Callable[..., TestClient]) -> None:
    service = StubService()
    client = make_client(lambda: service)
    response = client.get("/api/things", params={"q": "  生了孩子  ", "k": 2})
    assert response.status_code == 200
    assert response.json() == {
        "results": [
            {"code": "B2", "title": "新生儿出生“一件事”", "score": 0.9},
            {"code": "A1", "title": "退休“一件事”", "score": 0.5},
        ]
    }
    assert service.searches == [("生了孩子", 2)]
    client.get("/api/things", params={"q": "退休"})
    assert service.searches[-1] == ("退休", 5)  # default k


def test_get_returns_the_theme_json_or_a_404(make_client: Callable[..., TestClient]) -> None:
    service = StubService()
    client = make_client(lambda: service)
    response = client.get("/api/things/A1")
    assert response.status_code == 200
    assert response.json() == service.themes["A1"].model_dump(mode="json")
    error = assert_error(client.get("/api/things/NOPE0000"), 404, "not_found", "code")
    assert "NOPE0000" in error["message"]


def test_a_failing_load_is_a_json_503(make_client: Callable[..., TestClient]) -> None:
    def broken() -> Any:
        raise ModuleNotFoundError("No module named 'knowledge.service'")

    client = make_client(broken)
    assert_error(client.get("/api/things", params={"q": "退休"}), 503, "things_unavailable")
    assert_error(client.get("/api/things/A1"), 503, "things_unavailable")


def test_a_slow_load_is_503_loading_then_served(make_client: Callable[..., TestClient]) -> None:
    release = threading.Event()
    loaded_in: list[str] = []

    def slow() -> StubService:
        loaded_in.append(threading.current_thread().name)
        release.wait(10)
        return StubService()

    client = make_client(slow, chat_timeout_seconds=0.3)
    assert_error(client.get("/api/things", params={"q": "退休"}), 503, "things_loading")
    assert client.get("/healthz").status_code == 503  # the event loop still answers meanwhile
    release.set()
    response = client.get("/api/things", params={"q": "退休", "k": 1})
    assert response.status_code == 200 and response.json()["results"][0]["code"] == "B2"
    assert loaded_in and loaded_in != [threading.main_thread().name]
    assert len(loaded_in) == 1  # one load shared by every request


def test_preload_starts_in_the_background_without_blocking_startup(settings: Settings) -> None:
    started, release = threading.Event(), threading.Event()

    def slow() -> StubService:
        started.set()
        release.wait(10)
        return StubService()

    app = create_app(settings.model_copy(update={"knowledge_preload": True}), knowledge_loader=slow)
    with TestClient(app) as client:  # startup returned although the load is still blocked
        assert started.wait(5)
        assert app.state.knowledge.state == "loading"
        release.set()
        assert client.get("/api/things/B2").json()["code"] == "B2"
        assert app.state.knowledge.state == "ready"


async def test_a_failed_load_is_retried_after_the_cooldown() -> None:
    calls: list[int] = []

    def flaky() -> StubService:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("index not built yet")
        return StubService()

    provider = KnowledgeProvider(flaky, retry_after_seconds=0.2)
    with pytest.raises(ApiError) as info:
        await provider.get(5)
    assert info.value.detail.code == "things_unavailable"
    with pytest.raises(ApiError):  # within the cooldown: the failure is reported, no new load
        await provider.get(5)
    assert len(calls) == 1
    await asyncio.sleep(0.25)
    assert isinstance(await provider.get(5), StubService)
    assert len(calls) == 2


# --- the real knowledge service ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_client(redis_url: str) -> Iterator[TestClient]:
    pytest.importorskip("knowledge.service")
    # A cold index cache can take minutes to build: allow it (the default waits CHAT_TIMEOUT_SECONDS).
    settings = Settings(redis_url=redis_url, chat_timeout_seconds=900, knowledge_preload=True)
    with TestClient(create_app(settings)) as client:
        yield client


def test_real_search_results_are_consistent_records(real_client: TestClient) -> None:
    response = real_client.get("/api/things", params={"q": "我爸要办退休，领养老金", "k": 3})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert 1 <= len(results) <= 3
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)
    for result in results:
        assert set(result) == {"code", "title", "score"}
        assert 0.0 <= result["score"] <= 1.0
        record = real_client.get(f"/api/things/{result['code']}")
        assert record.status_code == 200
        assert record.json()["code"] == result["code"]
        assert record.json()["title"] == result["title"]


def test_real_unknown_code_is_404(real_client: TestClient) -> None:
    assert_error(real_client.get("/api/things/NOPE0000"), 404, "not_found", "code")
