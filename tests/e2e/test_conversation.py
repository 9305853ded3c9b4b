"""A Chinese conversation through the real stack: situation → one thing → materials."""

from __future__ import annotations

import pytest
from e2e_helpers import official_guide, say

pytestmark = pytest.mark.e2e


def test_health_reports_every_service_up(gateway):
    resp = gateway.get("/healthz")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == "ok"
    assert {"redis", "rasa", "action_server"} <= set(body["services"])
    assert all(s["ok"] for s in body["services"].values())


def test_situation_then_materials_come_from_official_data(gateway):
    guide = official_guide("43PCN0009")
    required = [m["clmc"] for m in guide["materialList"] if m["clbyx"] == "1"]
    phone = guide["basicInfo"]["zxdh"]

    _, text = say(gateway, "e2e-birth", "你好")
    assert text.strip(), "the greeting got no answer"

    messages, text = say(gateway, "e2e-birth", "我堂客上个月在县人民医院生了个伢子，要办出生证、上户口")
    assert "新生儿出生" in text, text
    assert phone in text, text
    assert sum(name in text for name in required) >= 2, (required, text)
    assert all(m["recipient_id"] == "e2e-birth" for m in messages)

    _, text = say(gateway, "e2e-birth", "那要带么子材料咯")
    assert sum(name in text for name in required) >= 2, (required, text)


def test_retirement_answer_names_lead_department_and_time_limit(gateway):
    guide = official_guide("43PCN0013")
    _, text = say(gateway, "e2e-retire", "我老倌子明年满60岁，要办退休手续，哪么搞")
    assert "退休" in text
    assert guide["basicInfo"]["zxdh"] in text
    assert f"承诺{guide['basicInfo']['completedLimit']}个工作日" in text, text


def test_off_topic_is_not_answered_with_a_theme(gateway):
    _, text = say(gateway, "e2e-oos", "今天天气怎么样，明天会下雨不")
    assert "一件事" not in text or "不" in text, text
    assert "新生儿出生" not in text and "退休" not in text


def test_things_search_and_record(gateway):
    resp = gateway.get("/api/things", params={"q": "我爸要办退休，领养老金", "k": 3})
    assert resp.status_code == 200
    results = resp.json()["results"]
    assert results and results[0]["code"] == "43PCN0013"
    assert len(results) <= 3
    assert all(set(r) >= {"code", "title", "score"} for r in results)
    assert results == sorted(results, key=lambda r: -r["score"])

    record = gateway.get("/api/things/43PCN0009").json()
    guide = official_guide("43PCN0009")
    assert record["code"] == "43PCN0009"
    assert record["department"]["lead"] == guide["basicInfo"]["qtbmmc"]
    assert gateway.get("/api/things/NOPE0000").status_code == 404


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b"{not json", {"content-type": "application/json"}),
        (b'{"sender": "x"}', {"content-type": "application/json"}),
        (b'{"sender": 5, "message": "hi"}', {"content-type": "application/json"}),
        (b'{"sender": "x", "message": "   "}', {"content-type": "application/json"}),
        (b"sender=x&message=hi", {"content-type": "application/x-www-form-urlencoded"}),
    ],
)
def test_bad_chat_requests_get_clear_json_errors(gateway, body, headers):
    resp = gateway.post("/api/chat", content=body, headers=headers)
    assert 400 <= resp.status_code < 500, resp.text
    error = resp.json()["error"]
    assert error["message"]


def test_overlong_message_is_refused_with_its_limit(gateway):
    resp = gateway.post("/api/chat", json={"sender": "x", "message": "办" * 100_000})
    assert 400 <= resp.status_code < 500
    message = resp.json()["error"]["message"]
    assert "4000" in message and "转人工" in message  # the limit and a way on, not a bare refusal
