"""Staff accounts (argon2) and login limiting against a real Redis; the CLI through a pipe."""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import select
import socket
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from records import staff_users
from records.errors import Conflict, Invalid, NotFound

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "scripts" / "staff_user.py"


@pytest.fixture()
def quick_hashes(monkeypatch):
    """Cheap argon2 parameters for the unit tests (the CLI tests use the real ones)."""
    monkeypatch.setattr(staff_users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    staff_users._dummy_hash.cache_clear()
    yield
    staff_users._dummy_hash.cache_clear()


async def test_create_verify_change_delete(aclient, redis_client, quick_hashes):
    user = await staff_users.create_user(aclient, "Zhang_San", "correct horse", "张三")
    assert user.username == "zhang_san" and user.display_name == "张三"
    stored = redis_client.hgetall("yjs:staff:user:zhang_san")
    assert stored["password_hash"].startswith("$argon2id$") and "correct horse" not in str(stored)
    assert await staff_users.verify(aclient, "zhang_san", "correct horse")
    assert await staff_users.verify(aclient, "ZHANG_SAN", "correct horse")
    assert not await staff_users.verify(aclient, "zhang_san", "wrong horse")
    assert not await staff_users.verify(aclient, "nobody", "correct horse")
    assert not await staff_users.verify(aclient, "bad name!", "correct horse")
    with pytest.raises(Conflict):
        await staff_users.create_user(aclient, "zhang_san", "another one")

    await staff_users.set_password(aclient, "zhang_san", "battery staple")
    assert await staff_users.verify(aclient, "zhang_san", "battery staple")
    assert not await staff_users.verify(aclient, "zhang_san", "correct horse")
    with pytest.raises(NotFound):
        await staff_users.set_password(aclient, "li_si", "battery staple")

    await staff_users.create_user(aclient, "li-si", "12345678")
    assert [u.username for u in await staff_users.list_users(aclient)] == ["li-si", "zhang_san"]
    assert await staff_users.delete_user(aclient, "zhang_san")
    assert not await staff_users.delete_user(aclient, "zhang_san")
    assert not await staff_users.verify(aclient, "zhang_san", "battery staple")
    assert [u.username for u in await staff_users.list_users(aclient)] == ["li-si"]


@pytest.mark.parametrize("name", ["ab", "a" * 33, "张三", "a b", "x/y", ""])
def test_username_rules(name):
    with pytest.raises(Invalid):
        staff_users.check_username(name)


async def test_password_rules(aclient, quick_hashes):
    with pytest.raises(Invalid) as err:
        await staff_users.create_user(aclient, "wang", "short")
    assert "8" in err.value.message
    with pytest.raises(Invalid):
        await staff_users.create_user(aclient, "wang", "x" * 257)


async def test_login_limiting_per_username_and_client(aclient, redis_client):
    for n in range(1, 5):
        check = await staff_users.record_login_failure(aclient, "zhang", "10.0.0.1")
        assert check.allowed and check.failures == n
    assert (await staff_users.check_login_allowed(aclient, "zhang", "10.0.0.1")).allowed
    locked = await staff_users.record_login_failure(aclient, "zhang", "10.0.0.1")
    assert not locked.allowed and 0 < locked.retry_after_seconds <= staff_users.WINDOW_SECONDS
    check = await staff_users.check_login_allowed(aclient, "ZHANG", "10.0.0.1")
    assert not check.allowed and check.retry_after_seconds > 800
    assert (await staff_users.check_login_allowed(aclient, "zhang", "10.0.0.2")).allowed  # another client
    assert (await staff_users.check_login_allowed(aclient, "li", "10.0.0.1")).allowed  # another user
    await staff_users.clear_login_failures(aclient, "zhang", "10.0.0.1")
    assert (await staff_users.check_login_allowed(aclient, "zhang", "10.0.0.1")).failures == 0
    # Whatever a login form sends, the key stays short.
    await staff_users.record_login_failure(aclient, "x" * 5000, "::ffff:127.0.0.1")
    assert all(len(k) < 64 for k in redis_client.keys("yjs:staff:login_fail:*"))


def _run(args: list[str], stdin: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REDIS_URL": url}
    return subprocess.run(
        [sys.executable, str(CLI), *args], input=stdin, capture_output=True, text=True, env=env, timeout=60, cwd="/"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_cli_creates_and_updates_from_a_pipe(redis_url, aclient):
    done = await asyncio.to_thread(_run, ["wangwu", "--display-name", "王五"], "first-password\n", redis_url)
    assert done.returncode == 0, done.stderr
    assert "Created staff user wangwu (王五)" in done.stdout
    assert await staff_users.verify(aclient, "wangwu", "first-password")

    done = await asyncio.to_thread(_run, ["wangwu"], "second password with spaces \n", redis_url)
    assert done.returncode == 0 and "Updated" in done.stdout
    assert await staff_users.verify(aclient, "wangwu", "second password with spaces ")
    assert (await staff_users.get_user(aclient, "wangwu")).display_name == "王五"


@pytest.mark.parametrize(
    ("args", "stdin", "expected"),
    [
        (["zhaoliu"], "short\n", "too short"),
        (["zhaoliu"], "", "No password"),
        (["no way"], "long enough\n", "not allowed"),
    ],
)
def test_cli_refuses_with_one_sentence(redis_url, redis_client, args, stdin, expected):
    done = _run(args, stdin, redis_url)
    assert done.returncode == 1 and expected in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert redis_client.keys("yjs:staff:*") == []


def test_cli_says_when_redis_is_unreachable():
    url = f"redis://127.0.0.1:{_free_port()}/0"
    done = _run(["zhaoliu"], "long enough\n", url)
    assert done.returncode == 1
    assert done.stderr == f"Redis does not answer at {url}: start it (make run) or set REDIS_URL.\n"


def _controlling_tty() -> None:
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _type_on_a_terminal(url: str, answers: list[str]) -> tuple[int, str]:
    """Run the CLI on a pseudo-terminal, answering each password prompt; (exit status, screen)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, str(CLI), "terminal_user"],
        stdin=slave, stdout=slave, stderr=slave, env={**os.environ, "REDIS_URL": url},
        preexec_fn=_controlling_tty, cwd="/",
    )
    os.close(slave)
    screen, pending = "", list(answers)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 1024).decode(errors="replace")
            except OSError:
                break
            if not chunk:
                break
            screen += chunk
            if pending and screen.count("Password") > len(answers) - len(pending):
                os.write(master, (pending.pop(0) + "\n").encode())
        elif proc.poll() is not None:
            break
    os.close(master)
    return proc.wait(timeout=10), screen


async def test_cli_asks_twice_without_echo_on_a_terminal(redis_url, aclient):
    status, screen = await asyncio.to_thread(_type_on_a_terminal, redis_url, ["typed-secret", "typed-secret"])
    assert status == 0, screen
    assert "Password again" in screen and "typed-secret" not in screen  # no echo
    assert await staff_users.verify(aclient, "terminal_user", "typed-secret")

    status, screen = await asyncio.to_thread(_type_on_a_terminal, redis_url, ["one-password", "other-password"])
    assert status == 1 and "differ" in screen
    assert await staff_users.verify(aclient, "terminal_user", "typed-secret")
