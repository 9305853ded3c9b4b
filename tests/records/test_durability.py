"""Nothing acknowledged is lost when redis-server is SIGKILLed in the middle of ticket creation and
claims, with the shipped settings of the managed Redis: redis-server runs with ``deploy/redis.conf``
itself (included, as ``make run`` and the systemd unit do; only port and directory are added)."""

from __future__ import annotations

import asyncio
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis

from records import staff_queue, tickets
from records.client import async_client
from records.ticket_model import HandoffTicket, TicketStatus

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_CONF = ROOT / "deploy" / "redis.conf"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(workdir: Path, port: int) -> subprocess.Popen[bytes]:
    conf = workdir / "redis-test.conf"
    conf.write_text(f'include "{SHIPPED_CONF}"\nport {port}\ndir "{workdir}"\n')
    proc = subprocess.Popen(["redis-server", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    probe = redis.Redis(port=port, decode_responses=True)
    for _ in range(200):
        try:
            if probe.ping():
                # The test proves the shipped settings: append-only, fsync before every reply.
                assert probe.config_get("appendonly") == {"appendonly": "yes"}
                assert probe.config_get("appendfsync") == {"appendfsync": "always"}
                return proc
        except redis.ConnectionError:
            time.sleep(0.02)
    proc.kill()
    pytest.fail("redis-server did not start")


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
async def test_sigkill_loses_no_acknowledged_ticket_or_claim(tmp_path: Path):
    port = _free_port()
    url = f"redis://127.0.0.1:{port}/0"
    proc = _start(tmp_path, port)
    created: dict[str, HandoffTicket] = {}
    claimed: dict[str, str] = {}
    client = async_client(url, max_connections=16)

    async def worker(w: int) -> None:
        n = 0
        while True:
            n += 1
            ticket = HandoffTicket(sender=f"kill-{w}-{n}", priority=n % 3 == 0)
            try:
                await tickets.create_ticket(client, ticket)
                created[ticket.id] = ticket
                if n % 2 == 0:
                    await staff_queue.claim(client, ticket.id, f"staff{w}")
                    claimed[ticket.id] = f"staff{w}"
            except (redis.RedisError, OSError):
                return

    workers = [asyncio.create_task(worker(w)) for w in range(8)]
    await asyncio.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    await asyncio.wait_for(asyncio.gather(*workers), 30)
    await client.aclose()
    assert len(created) > 50, "too few writes before the kill to mean anything"

    proc = _start(tmp_path, port)
    try:
        check = redis.Redis(port=port, decode_responses=True)
        for ticket_id, ticket in created.items():
            raw = check.get(tickets.ticket_key(ticket_id))
            assert raw is not None, f"acknowledged ticket {ticket_id} lost"
            stored = tickets.load(raw)
            if ticket_id in claimed:
                assert stored.status == TicketStatus.picked_up and stored.staff == claimed[ticket_id]
                assert check.zscore(tickets.CLAIMED_KEY, ticket_id) is not None
            elif stored.status == TicketStatus.waiting:
                assert check.zscore(tickets.QUEUE_KEY, ticket_id) == tickets.queue_score(ticket)
        print(f"\nSIGKILL mid-write: {len(created)} tickets and {len(claimed)} claims acknowledged, none lost")
    finally:
        proc.kill()
        proc.wait(timeout=10)
