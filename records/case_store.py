"""Cases and ratings in Redis: sync functions (the action server calls them in a worker thread).

Keys (documented in docs/cases.md; the gateway / staff console reads them):

- ``yjs:case:<id>``          one case, JSON (``Case``)
- ``yjs:cases:<kind>``       sorted set of case ids of one kind (bancheng / complaint / bad_rating),
                             score = created_at (unix seconds): oldest first
- ``yjs:cases``              sorted set of all case ids, same score
- ``yjs:case:seq:<yyyymmdd>`` daily counter behind the readable case number (BC20261126-0003)
- ``yjs:rating:<id>``        one rating, JSON (``Rating``)
- ``yjs:ratings``            sorted set of rating ids, score = created_at
- ``yjs:rating:seq``         counter behind rating ids
"""

from __future__ import annotations

import time

import redis

from records.case_model import CASE_ID_PREFIX, Case, CaseKind, Rating

PREFIX = "yjs:"
ALL_CASES_KEY = f"{PREFIX}cases"
RATINGS_KEY = f"{PREFIX}ratings"
RATING_SEQ_KEY = f"{PREFIX}rating:seq"


def case_key(case_id: str) -> str:
    return f"{PREFIX}case:{case_id}"


def cases_key(kind: CaseKind | str) -> str:
    return f"{PREFIX}cases:{CaseKind(kind).value}"


def rating_key(rating_id: str) -> str:
    return f"{PREFIX}rating:{rating_id}"


def _text(value: bytes | str | None) -> str | None:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def new_case_id(client: redis.Redis, kind: CaseKind, now: float | None = None) -> str:
    """A short number a person can read out on the phone: <prefix><yyyymmdd>-<nnnn>."""
    day = time.strftime("%Y%m%d", time.localtime(now if now is not None else time.time()))
    seq_key = f"{PREFIX}case:seq:{day}"
    seq = int(client.incr(seq_key))
    client.expire(seq_key, 3 * 24 * 3600)
    return f"{CASE_ID_PREFIX[kind]}{day}-{seq:04d}"


def new_rating_id(client: redis.Redis) -> str:
    return f"PJ{int(client.incr(RATING_SEQ_KEY)):06d}"


def save_case(client: redis.Redis, case: Case) -> None:
    """Store a case and index it by kind and in the list of all cases (one transaction)."""
    with client.pipeline(transaction=True) as pipe:
        pipe.set(case_key(case.id), case.model_dump_json())
        pipe.zadd(cases_key(case.kind), {case.id: case.created_at})
        pipe.zadd(ALL_CASES_KEY, {case.id: case.created_at})
        pipe.execute()


def get_case(client: redis.Redis, case_id: str) -> Case | None:
    raw = _text(client.get(case_key(case_id)))
    return Case.model_validate_json(raw) if raw else None


def case_ids(client: redis.Redis, kind: CaseKind | str | None = None) -> list[str]:
    """Case ids, oldest first (all kinds when ``kind`` is None)."""
    key = ALL_CASES_KEY if kind is None else cases_key(kind)
    return [_text(x) or "" for x in client.zrange(key, 0, -1)]


def list_cases(client: redis.Redis, kind: CaseKind | str | None = None) -> list[Case]:
    return [c for c in (get_case(client, i) for i in case_ids(client, kind)) if c is not None]


def save_rating(client: redis.Redis, rating: Rating) -> None:
    with client.pipeline(transaction=True) as pipe:
        pipe.set(rating_key(rating.id), rating.model_dump_json())
        pipe.zadd(RATINGS_KEY, {rating.id: rating.created_at})
        pipe.execute()


def get_rating(client: redis.Redis, rating_id: str) -> Rating | None:
    raw = _text(client.get(rating_key(rating_id)))
    return Rating.model_validate_json(raw) if raw else None


def list_ratings(client: redis.Redis) -> list[Rating]:
    ids = [_text(x) or "" for x in client.zrange(RATINGS_KEY, 0, -1)]
    return [r for r in (get_rating(client, i) for i in ids) if r is not None]


def link_rating_case(client: redis.Redis, rating_id: str, case_id: str) -> None:
    """Remember on the rating which follow-up case was filed for it."""
    rating = get_rating(client, rating_id)
    if rating is not None:
        client.set(rating_key(rating_id), rating.model_copy(update={"case_id": case_id}).model_dump_json())
