"""Fault test under load: SIGKILL one service at a time while 16 conversations talk to the gateway.

Runs last among the end-to-end tests (it kills processes) on its OWN stack on free ports, so the
shared session stack is not disturbed. For each of redis-server, Rasa, the action server and the
gateway: SIGKILL the service's main process while the load runs, then, with nobody touching the
stack, the supervisor in scripts/stack.py must bring it back: ``/healthz`` is 200 again within
the bound, nothing of the killed process group is left, and every ticket, case and rating the
gateway acknowledged (2xx with the confirmation text) is still in Redis at the end.

The measured recovery times are printed (``pytest -s``) and written to <stack dir>/faults.json.
"""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import redis
from hours_env import TEST_STACK_ENV

from records import case_store as case_store
from records import tickets as handoff_store

pytestmark = pytest.mark.e2e

CONVERSATIONS = 16
# Seconds from the SIGKILL until /healthz is 200 again: the issue asks for 15 s. Rasa meets it
# through its warm standby (scripts/stack.py promotes a second, already loaded Rasa). A cold Rasa
# start (no standby ready) loads the model again: about 23 s on an idle 2-core machine; its bound
# is what was measured under this test's load plus a margin (README, "Running it for real").
BOUND = {"redis": 15.0, "actions": 15.0, "gateway": 15.0, "rasa": 15.0,
         "rasa (cold, no standby)": float(os.environ.get("FAULTS_RASA_COLD_BOUND", "120"))}
THINK = 0.5  # seconds a person waits before trying again after an error or an apology
CASE_ID = re.compile(r"[A-Z]{2}\d{8}-\d{4}")


@dataclass
class Acks:
    """What the gateway acknowledged: must all be in Redis after the kills."""

    tickets: set[str] = field(default_factory=set)  # senders whose handoff was confirmed
    cases: set[str] = field(default_factory=set)  # case numbers shown to the person
    ratings: set[str] = field(default_factory=set)  # senders whose rating was confirmed
    replies: int = 0
    apologies: int = 0
    failures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, value: str) -> None:
        with self.lock:
            getattr(self, kind).add(value)


def _say(client: httpx.Client, sender: str, message: str, acks: Acks) -> list[dict] | None:
    try:
        resp = client.post("/api/chat", json={"sender": sender, "message": message})
    except httpx.HTTPError:
        acks.failures += 1
        time.sleep(THINK)
        return None
    if resp.status_code // 100 != 2:
        acks.failures += 1
        time.sleep(THINK)
        return None
    acks.replies += 1
    body = resp.json()
    if not isinstance(body, list) or any("error" in (m.get("custom") or {}) for m in body):
        acks.apologies += 1
        time.sleep(THINK)
    return body if isinstance(body, list) else None


def _text(messages: list[dict]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def _button(messages: list[dict], title: str | None = None, payload: str | None = None) -> str | None:
    for m in messages:
        for b in m.get("buttons") or []:
            if (title and b.get("title") == title) or (payload and b.get("payload") == payload):
                return b["payload"]
    return None


def _rating(client: httpx.Client, sender: str, acks: Acks) -> None:
    if _say(client, sender, "屋里娭毑前天过世哒，后事要办么子手续", acks) is None:
        return
    messages = _say(client, sender, "好，晓得了，拜拜", acks)
    best = _button(messages or [], title="非常满意")
    if best is None:
        return
    reply = _say(client, sender, best, acks)
    if reply is not None and "非常满意" in _text(reply):
        acks.add("ratings", sender)


def _complaint(client: httpx.Client, sender: str, acks: Acks) -> None:
    reply = _say(client, sender, "窗口那个人态度好差，我要投诉", acks)
    found = CASE_ID.search(_text(reply or []))
    if found:
        acks.add("cases", found.group(0))


def _handoff(client: httpx.Client, sender: str, acks: Acks) -> None:
    if _say(client, sender, "我要办退休", acks) is None:
        return
    messages = _say(client, sender, "我搞不清，帮我找个工作人员", acks)
    consent = _button(messages or [], payload="/affirm")
    if consent is None:
        return
    reply = _say(client, sender, consent, acks)
    if reply is not None and "工作人员会在这里直接回复您" in _text(reply):
        acks.add("tickets", sender)


def _questions(client: httpx.Client, sender: str, acks: Acks) -> None:
    _say(client, sender, "新生儿出生要带什么", acks)
    _say(client, sender, "要多久", acks)


SCRIPTS = [_rating, _complaint, _handoff, _questions]


def _talk(base_url: str, worker: int, stop: threading.Event, acks: Acks) -> None:
    n = 0
    with httpx.Client(base_url=base_url, timeout=30) as client:
        while not stop.is_set():
            script = SCRIPTS[(worker + n) % len(SCRIPTS)]
            script(client, f"faults-{worker}-{n}", acks)
            n += 1


@pytest.fixture(scope="module")
def fault_stack(tmp_path_factory: pytest.TempPathFactory, stack_module) -> Iterator:
    config = stack_module.StackConfig.on_free_ports(tmp_path_factory.mktemp("faults"))
    # Staff at work and no appointment offer however long the queue grows: every handoff is a ticket.
    config.extra_env.update({**TEST_STACK_ENV, "APPOINTMENT_OFFER_WAIT_MINUTES": "1000000"})
    s = stack_module.Stack(config)
    try:
        s.start()
    except stack_module.StackError as exc:
        pytest.fail(f"could not start the fault-test stack: {exc}")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def stack_module():
    import stack  # loaded by tests/conftest.py

    return stack


def _healthz(client: httpx.Client) -> int:
    try:
        return client.get("/healthz", timeout=2).status_code
    except httpx.HTTPError:
        return 0


def _kill_and_time(s, stack_module, name: str, client: httpx.Client) -> tuple[float, int, list[int]]:
    """SIGKILL the service's main process; seconds until a new one runs and /healthz is 200."""
    service = s.service(name.split()[0])
    old = service.proc.pid  # also its process group id
    members = stack_module.group_pids(old)
    t0 = time.monotonic()
    os.kill(old, signal.SIGKILL)
    deadline = t0 + BOUND[name] + 60
    while time.monotonic() < deadline:
        if service.proc.pid != old and _healthz(client) == 200:
            return time.monotonic() - t0, old, members
        time.sleep(0.25)
    return float("inf"), old, members


def _still_stored(client: redis.Redis, acks: Acks) -> dict[str, set[str]]:
    """The acknowledged items that are NOT in Redis."""
    ticket_senders = set()
    for key in client.scan_iter(match="yjs:handoff:ticket:*"):
        ticket = handoff_store.get_ticket_sync(client, key.split(":")[-1])
        if ticket is not None:
            ticket_senders.add(ticket.sender)
    rating_senders = {r.sender for r in case_store.list_ratings(client)}
    return {
        "tickets": acks.tickets - ticket_senders,
        "cases": {c for c in acks.cases if case_store.get_case(client, c) is None},
        "ratings": acks.ratings - rating_senders,
    }


def test_each_service_comes_back_after_sigkill_under_load(fault_stack, stack_module):
    s = fault_stack
    acks, stop = Acks(), threading.Event()
    workers = [threading.Thread(target=_talk, args=(s.config.gateway_url, i, stop, acks), daemon=True)
               for i in range(CONVERSATIONS)]
    figures: dict[str, float] = {}
    leftovers: dict[str, list[int]] = {}
    started = time.monotonic()
    with httpx.Client(base_url=s.config.gateway_url) as client:
        for w in workers:
            w.start()
        time.sleep(15)  # conversations under way before the first kill
        rasa = s.service("rasa")
        for name in ("redis", "rasa", "actions", "gateway", "rasa (cold, no standby)"):
            if name == "rasa":
                assert rasa.spare_ready.wait(180), "Rasa's warm standby was not ready within 180 s"
            if name.startswith("rasa (cold"):
                rasa.drop_standby(for_seconds=600)
            elapsed, old_group, members = _kill_and_time(s, stack_module, name, client)
            figures[name] = round(elapsed, 1)
            leftovers[name] = stack_module.group_pids(old_group)
            print(f"\n[faults] SIGKILL {name}: /healthz 200 again after {elapsed:.1f}s "
                  f"(bound {BOUND[name]:.0f}s); old group had {len(members)} process(es)")
            time.sleep(8)  # more acknowledged writes with the restarted service
        stop.set()
        for w in workers:
            w.join(timeout=60)

    store = redis.Redis.from_url(s.config.redis_url, decode_responses=True)
    missing = _still_stored(store, acks)
    store.close()
    report = {"recovery_seconds": figures, "bounds": BOUND, "acknowledged": {
        "tickets": len(acks.tickets), "cases": len(acks.cases), "ratings": len(acks.ratings)},
        "replies": acks.replies, "apologies": acks.apologies, "failed_requests": acks.failures,
        "restarts": {sv.name: sv.restarts for sv in s.services},
        "test_seconds": round(time.monotonic() - started, 1)}
    print(f"[faults] {json.dumps(report, ensure_ascii=False)}")
    (Path(s.config.log_dir).parent / "faults.json").write_text(json.dumps(report, indent=2))

    for name, elapsed in figures.items():
        assert elapsed <= BOUND[name], f"{name}: /healthz not 200 within {BOUND[name]}s after SIGKILL ({report})"
    assert not any(leftovers.values()), f"processes of a killed group survived: {leftovers}"
    assert acks.tickets and acks.cases and acks.ratings, f"the load acknowledged too little to judge: {report}"
    assert not any(missing.values()), f"acknowledged but lost: {missing}"
    assert all(sv.alive() for sv in s.services)


def test_a_hung_action_server_is_detected_and_restarted(fault_stack, stack_module):
    """SIGSTOP: the process keeps port and socket but never answers (as a stuck worker did)."""
    s = fault_stack
    service = s.service("actions")
    old = service.proc.pid
    t0 = time.monotonic()
    os.kill(old, signal.SIGSTOP)
    try:
        with httpx.Client(base_url=s.config.gateway_url) as client:
            while time.monotonic() - t0 < 60:
                if service.proc.pid != old and _healthz(client) == 200:
                    break
                time.sleep(0.25)
        elapsed = time.monotonic() - t0
    finally:
        if stack_module.group_pids(old):
            os.kill(old, signal.SIGKILL)
    print(f"\n[faults] SIGSTOP actions (hung): /healthz 200 again after {elapsed:.1f}s")
    # 3 failed probes (2 s apart, 2 s time-out each), then a restart: about 15 s.
    assert service.proc.pid != old and elapsed <= 30, f"a hung action server was not replaced ({elapsed:.1f}s)"
    assert stack_module.group_pids(old) == []
