"""Malformed and hostile requests for the gateway fuzz tests (tests/bot/test_fuzz.py in-process,
tests/e2e/test_hardening.py against the real gateway), and the one rule every answer must follow:
never a 5xx, and every error is our JSON error with a Chinese message."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Case:
    kind: str
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


JSON_CT = {"content-type": "application/json"}
CONTROL = [chr(c) for c in [*range(0, 32), 0x7F, 0x85, 0x9B]] + ["\u2028", "\u2029"]
ODD_SENDERS = [
    "web:42", "a/b", "a%2Fb", "张三", "x y", ".", "..", "~", "~YS9i", "../../etc/passwd", "a?b=c#d", "%00",
    "\u202egnp.exe", "\u200b", "😀" * 10, "tg:-100123", "a\\b", "*", "[]", "{}", "null", "true", " a ",
    "\u3000", "Ω" * 128, "ab" * 64, "\ufeffbom",
]
INJECTIONS = [
    "/restart", "/session_start", '/rate{"rating":"-1"}', '/rate{"rating":"5"}', "/affirm", "/deny",
    '/choose_theme{"code":"../../etc"}', "/ask_human", " /restart", "\u3000/restart", "//", "/", "/{}",
    '/inform{"phone":"13800000000"}@0.99', "{{ slots }}", "<script>alert(1)</script>", "${jndi:ldap://x}",
    "'; DROP TABLE users; --", "%s%s%n", "\u202e回到机器人", "回到机器人", "转人工", "A" * 500, "办" * 500,
]
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "FOO", "PROPFIND"]
PATHS = [
    "/api/chat", "/healthz", "/api/things", "/api/things/43PCN0009", "/", "/docs", "/redoc", "/openapi.json",
    "/api/chat/", "/api/things/43PCN0009/", "//api/chat", "/api/../healthz", "/api/%2e%2e/healthz",
    "/api/things/%00", "/api/things/" + "A" * 3000, "/api/things/%E5%BC%A0", "/webhooks/rest/webhook",
    "/conversations/x/tracker/events", "/api/chat;x=1", "/static/../../etc/passwd", "/api/things/%ZZ",
]
CONTENT_TYPES = [
    "text/plain", "application/json; charset=latin-1", "application/x-www-form-urlencoded",
    "application/json, text/html", "application/vnd.api+json", "multipart/form-data; boundary=x", "",
    "application/jsonx", "APPLICATION/JSON", "*/*",
]


def _rand_text(rng: random.Random, n: int) -> str:
    pools = ["abcXYZ019", "张三李四办事材料", "!@#$%^&*()[]{}<>/\\|`~", "😀🙏", " \t", "ÀÉÎÕÜ"]
    return "".join(rng.choice(rng.choice(pools)) for _ in range(n))


def _chat(sender: object, message: object) -> bytes:
    return json.dumps({"sender": sender, "message": message}, ensure_ascii=False).encode()


def _bad_json(rng: random.Random) -> Case:
    valid = _chat("fz", "你好")
    choices: list[Callable[[], bytes]] = [
        lambda: valid[: rng.randint(0, len(valid) - 1)],
        lambda: bytes(rng.randrange(256) for _ in range(rng.randint(1, 200))),
        lambda: b"[" * rng.randint(1000, 60000),
        lambda: b'{"a":' * rng.randint(100, 5000),
        lambda: b'{"sender": "a", "message": NaN}',
        lambda: b'{"sender": "a", "message": "x", "sender": 1}',
        lambda: b"\xef\xbb\xbf" + valid,
        lambda: b'{"sender": "a", "message": "' + bytes([0xC3, 0x28]) + b'"}',
        lambda: b'{"sender": "a", "message": 1' + b"1" * rng.randint(4300, 6000) + b"}",
        lambda: b"",
        lambda: b"   \n\t ",
        lambda: b"{'sender': 'a'}",
    ]
    return Case("bad_json", "POST", "/api/chat", JSON_CT, rng.choice(choices)())


def _wrong_types(rng: random.Random) -> Case:
    odd: list[object] = [1, 1.5, True, None, [], ["a"], {}, {"a": "b"}, -1, 10**20]
    if rng.random() < 0.5:
        body = _chat(rng.choice(odd), "你好")
    elif rng.random() < 0.5:
        body = _chat("fz-types", rng.choice(odd))
    else:
        body = json.dumps(rng.choice([None, [], "text", 42, [{"sender": "a"}], {"sender": "a"}])).encode()
    return Case("wrong_types", "POST", "/api/chat", JSON_CT, body)


def _huge(rng: random.Random) -> Case:
    pick = rng.randrange(4)
    if pick == 0:
        body = _chat("x" * rng.randint(129, 20000), "你好")
    elif pick == 1:
        body = _chat("fz-huge", "办" * rng.randint(501, 20000))
    elif pick == 2:
        body = b'{"sender": "a", "message": "' + b"a" * rng.randint(70000, 200000) + b'"}'
    else:
        body = json.dumps({f"k{i}": i for i in range(rng.randint(1000, 5000))}).encode()
    return Case("huge", "POST", "/api/chat", JSON_CT, body)


def _control(rng: random.Random) -> Case:
    bad = rng.choice(CONTROL)
    if rng.random() < 0.3:
        body = b'{"sender": "a\\ud800", "message": "hi"}' if rng.random() < 0.5 else b'{"sender": "a", "message": "\\udfff"}'
    elif rng.random() < 0.5:
        body = _chat(f"fz{bad}x", "你好")
    else:
        body = _chat(f"fz-ctl-{rng.randrange(10**6)}", f"你{bad}好")
    return Case("control_chars", "POST", "/api/chat", JSON_CT, body)


def _odd_sender(rng: random.Random) -> Case:
    sender = rng.choice(ODD_SENDERS) if rng.random() < 0.6 else _rand_text(rng, rng.randint(1, 40))
    return Case("odd_sender", "POST", "/api/chat", JSON_CT, _chat(sender, rng.choice(["你好", "我要办退休", "谢谢"])))


def _injection(rng: random.Random) -> Case:
    sender = f"fz-inj-{rng.randrange(10**9)}"
    return Case("injection", "POST", "/api/chat", JSON_CT, _chat(sender, rng.choice(INJECTIONS)))


def _method(rng: random.Random) -> Case:
    method = rng.choice(METHODS)
    body = _chat("fz-m", "你好") if method not in ("GET", "HEAD", "TRACE") else b""
    return Case("odd_method", method, rng.choice(PATHS[:5]), JSON_CT if body else {}, body)


def _path(rng: random.Random) -> Case:
    if rng.random() < 0.5:
        path = rng.choice(PATHS)
    else:
        q = rng.choice(["", " ", "退休", "a" * 600, "%00", "%E5", "\u3000", "办" * 50])
        k = rng.choice(["", "3", "0", "-1", "21", "abc", "1e3", str(10**30), "3.5", "%00"])
        path = f"/api/things?q={q}&k={k}" if rng.random() < 0.8 else f"/api/things?k={k}&k=2&q=1&q=2"
    method = "POST" if path.startswith("/api/chat") and rng.random() < 0.7 else "GET"
    body = _chat("fz-path", "你好") if method == "POST" else b""
    return Case("odd_path", method, path, JSON_CT if body else {}, body)


def _headers(rng: random.Random) -> Case:
    headers: dict[str, str] = {}
    pick = rng.randrange(4)
    if pick == 0:
        headers["content-type"] = rng.choice(CONTENT_TYPES)
    elif pick == 1:
        headers.update(JSON_CT, host=rng.choice(["evil.example", "localhost:1", "[::1]", "a" * 300, "x y"]))
    elif pick == 2:
        headers.update(JSON_CT, **{"x-forwarded-for": rng.choice(["not-an-ip", "1.1.1.1, 2.2.2.2", "::ffff:1.2.3.4",
                                                                    "999.1.1.1", "", "a" * 500])})
    else:
        headers.update(JSON_CT, cookie="c=" + "x" * rng.randint(100, 8000), accept=rng.choice(["text/html", "*/*"]))
    body = _chat(f"fz-h-{rng.randrange(10**9)}", "你好")
    path = rng.choice(["/api/chat", "/api/chat", "/api/things/43PCN0009/", "/healthz/"])
    return Case("odd_headers", "POST" if path == "/api/chat" else "GET", path, headers, body if path == "/api/chat" else b"")


GENERATORS: list[Callable[[random.Random], Case]] = [
    _bad_json, _wrong_types, _huge, _control, _odd_sender, _injection, _method, _path, _headers,
]


def fuzz_cases(seed: int, count: int) -> Iterator[Case]:
    rng = random.Random(seed)
    for _ in range(count):
        yield rng.choice(GENERATORS)(rng)


def problem(case: Case, status: int, headers: dict[str, str], body: bytes) -> str | None:
    """What is wrong with the answer to ``case``, or None when it follows the rules."""
    if status >= 500:
        return f"{status} for {case.kind} {case.method} {case.path[:80]}"
    if "location" in headers:
        return f"redirect to {headers['location']!r}"
    if case.method == "HEAD":
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return f"{status}: body is not JSON: {body[:80]!r}"
    if status >= 400:
        error = data.get("error") if isinstance(data, dict) else None
        if not isinstance(error, dict) or set(error) != {"code", "message", "field"}:
            return f"{status}: not our error shape: {body[:120]!r}"
        if not CJK.search(str(error["message"])):
            return f"{status}: error message not in Chinese: {error['message']!r}"
    return None
