"""records.case_store against a real redis-server: cases and ratings round-trip, indexes, ids."""

from __future__ import annotations

import json

import pytest
import redis

from records import case_store as store
from records.case_model import Case, CaseKind, Rating


def test_case_round_trip_and_indexes(redis_client: redis.Redis) -> None:
    first_id = store.new_case_id(redis_client, CaseKind.bancheng, now=1_800_000_000)
    second_id = store.new_case_id(redis_client, CaseKind.complaint, now=1_800_000_000)
    assert first_id.startswith("BC") and first_id.endswith("-0001")
    assert second_id.startswith("TS") and second_id.endswith("-0002")

    first = Case(id=first_id, created_at=100.0, kind=CaseKind.bancheng, sender="s1", matter="办退休",
                 place="人社局", story="推来推去", contact_consent=True, contact="13812345678", channel="telegram")
    second = Case(id=second_id, created_at=50.0, kind=CaseKind.complaint, sender="s2", text="态度差")
    store.save_case(redis_client, first)
    store.save_case(redis_client, second)

    assert store.get_case(redis_client, first_id) == first
    assert store.get_case(redis_client, "nope") is None
    assert store.case_ids(redis_client, CaseKind.bancheng) == [first_id]
    assert store.case_ids(redis_client, "complaint") == [second_id]
    assert store.case_ids(redis_client) == [second_id, first_id]  # oldest first
    # The documented JSON shape (docs/cases.md) the staff console reads.
    raw = json.loads(redis_client.get(f"yjs:case:{first_id}"))
    assert {k: raw[k] for k in ("id", "kind", "matter", "place", "story", "contact", "channel", "sender", "status")} == {
        "id": first_id, "kind": "bancheng", "matter": "办退休", "place": "人社局", "story": "推来推去",
        "contact": "13812345678", "channel": "telegram", "sender": "s1", "status": "new",
    }
    assert redis_client.zscore("yjs:cases:bancheng", first_id) == 100.0


def test_rating_round_trip_and_link(redis_client: redis.Redis) -> None:
    rid = store.new_rating_id(redis_client)
    rating = Rating(id=rid, level=2, label="不满意", theme="43PCN0009", channel="rest", sender="s1")
    store.save_rating(redis_client, rating)
    assert store.list_ratings(redis_client) == [rating]
    store.link_rating_case(redis_client, rid, "CP20270115-0001")
    stored = store.get_rating(redis_client, rid)
    assert stored is not None and stored.case_id == "CP20270115-0001"
    assert redis_client.zscore("yjs:ratings", rid) == pytest.approx(rating.created_at)
    assert store.new_rating_id(redis_client) != rid


def test_rating_level_is_bounded() -> None:
    with pytest.raises(ValueError):
        Rating(id="x", level=6, label="?", sender="s")
