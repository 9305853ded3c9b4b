"""Staff accounts for the console: argon2id password hashes in Redis, and login attempt limiting.

Keys:

- ``yjs:staff:user:<username>``     hash: ``username``, ``display_name``, ``password_hash`` (argon2id,
                                    PHC string), ``created_at``, ``updated_at``
- ``yjs:staff:users``               set: every username
- ``yjs:staff:login_fail:<digest>`` counter with expiry: failed logins of one username from one
                                    client in the current window (digest = sha256 of both, so any
                                    text a login form receives makes a short, safe key)

Usernames: 3-32 letters, digits, ``_`` or ``-``, kept in lower case. Passwords: at least 8
characters (at most 256). There is no default user and no default password: accounts are made with
``scripts/staff_user.py`` (``make staff-user USER=name``). ``verify`` takes as long for an unknown user
as for a wrong password (it checks a dummy hash). Hashing runs in a worker thread.

Login limiting: ``MAX_FAILURES`` failures of one username from one client within ``WINDOW_SECONDS``
lock that pair until the window (started by the first failure) ends: ``check_login_allowed`` says so
with the seconds to wait; a successful login clears the count (``clear_login_failures``).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from functools import lru_cache

import redis.asyncio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel

from records.cas import run_script, script_sha
from records.errors import Conflict, Invalid, NotFound

USER_PREFIX = "yjs:staff:user:"
USERS_KEY = "yjs:staff:users"
LOGIN_FAIL_PREFIX = "yjs:staff:login_fail:"

USERNAME_RE = re.compile(r"^[A-Za-z0-9_-]{3,32}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 256
MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60

_hasher = PasswordHasher()  # argon2id, the library's RFC 9106 low-memory profile

_CREATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'username', ARGV[1], 'display_name', ARGV[2], 'password_hash', ARGV[3],
           'created_at', ARGV[4], 'updated_at', ARGV[4])
redis.call('SADD', KEYS[2], ARGV[1])
return 1
"""
_CREATE_SHA = script_sha(_CREATE)

_FAIL = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('TTL', KEYS[1])}
"""
_FAIL_SHA = script_sha(_FAIL)


class StaffUser(BaseModel):
    username: str
    display_name: str
    created_at: float
    updated_at: float


class LoginCheck(BaseModel):
    allowed: bool
    failures: int
    retry_after_seconds: int = 0  # when not allowed: seconds until the lock ends


def user_key(username: str) -> str:
    return f"{USER_PREFIX}{username}"


def check_username(username: str) -> str:
    """The stored form of a username (lower case), or ``Invalid``."""
    if not USERNAME_RE.fullmatch(username or ""):
        raise Invalid(
            f"invalid username {username!r}",
            message="用户名要用3到32个英文字母、数字、下划线或连字符。",
        )
    return username.lower()


def check_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD:
        raise Invalid("password too short", message=f"密码至少要{MIN_PASSWORD}个字符。")
    if len(password) > MAX_PASSWORD:
        raise Invalid("password too long", message=f"密码最多{MAX_PASSWORD}个字符。")
    return password


async def _hash(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash("not a password: only here to spend the same time")


def _user(data: dict[str, str]) -> StaffUser:
    return StaffUser(
        username=data["username"],
        display_name=data.get("display_name") or data["username"],
        created_at=float(data["created_at"]),
        updated_at=float(data["updated_at"]),
    )


def _decoded(data: dict) -> dict[str, str]:  # type: ignore[type-arg]
    return {
        (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v) for k, v in data.items()
    }


async def create_user(
    client: redis.asyncio.Redis, username: str, password: str, display_name: str | None = None
) -> StaffUser:
    """A new account; ``Conflict`` if the username exists."""
    name = check_username(username)
    hashed = await _hash(check_password(password))
    now = time.time()
    shown = (display_name or "").strip() or name
    created = await run_script(client, _CREATE, _CREATE_SHA, [user_key(name), USERS_KEY], [name, shown, hashed, repr(now)])
    if not int(created):
        raise Conflict(f"user {name} exists", message="这个用户名已经有了。")
    return StaffUser(username=name, display_name=shown, created_at=now, updated_at=now)


async def get_user(client: redis.asyncio.Redis, username: str) -> StaffUser | None:
    try:
        name = check_username(username)
    except Invalid:
        return None
    data = _decoded(await client.hgetall(user_key(name)))
    return _user(data) if data else None


async def set_password(
    client: redis.asyncio.Redis, username: str, password: str, display_name: str | None = None
) -> StaffUser:
    """A new password (and display name, when given) for an existing account; ``NotFound`` else."""
    name = check_username(username)
    hashed = await _hash(check_password(password))
    key = user_key(name)
    fields = {"password_hash": hashed, "updated_at": repr(time.time())}
    if display_name and display_name.strip():
        fields["display_name"] = display_name.strip()
    async with client.pipeline(transaction=True) as pipe:
        while True:
            try:
                await pipe.watch(key)
                if not await pipe.exists(key):
                    raise NotFound(f"user {name}", message="没有这个用户。")
                pipe.multi()
                pipe.hset(key, mapping=fields)
                await pipe.execute()
                break
            except redis.WatchError:
                continue
    user = await get_user(client, name)
    if user is None:  # pragma: no cover - deleted in the same instant
        raise NotFound(f"user {name}")
    return user


async def delete_user(client: redis.asyncio.Redis, username: str) -> bool:
    name = check_username(username)
    async with client.pipeline(transaction=True) as pipe:
        pipe.delete(user_key(name))
        pipe.srem(USERS_KEY, name)
        deleted, _ = await pipe.execute()
    return bool(deleted)


async def list_users(client: redis.asyncio.Redis) -> list[StaffUser]:
    names = sorted(n.decode() if isinstance(n, bytes) else n for n in await client.smembers(USERS_KEY))
    users = [await get_user(client, n) for n in names]
    return [u for u in users if u is not None]


async def verify(client: redis.asyncio.Redis, username: str, password: str) -> bool:
    """True for the right password. An unknown or malformed username costs the same time."""
    stored: str | None = None
    try:
        name = check_username(username)
        value = await client.hget(user_key(name), "password_hash")
        stored = value.decode() if isinstance(value, bytes) else value
    except Invalid:
        name = ""
    candidate = (password or "")[:MAX_PASSWORD]
    try:
        ok = await asyncio.to_thread(_hasher.verify, stored or _dummy_hash(), candidate)
    except (VerificationError, InvalidHashError):
        return False
    if not stored:
        return False
    if _hasher.check_needs_rehash(stored):
        await client.hset(user_key(name), "password_hash", await _hash(candidate))
    return bool(ok)


def _fail_key(username: str, client_id: str) -> str:
    digest = hashlib.sha256(f"{username.lower()}\0{client_id}".encode()).hexdigest()[:32]
    return f"{LOGIN_FAIL_PREFIX}{digest}"


async def check_login_allowed(client: redis.asyncio.Redis, username: str, client_id: str) -> LoginCheck:
    key = _fail_key(username, client_id)
    async with client.pipeline(transaction=False) as pipe:
        pipe.get(key)
        pipe.ttl(key)
        count, ttl = await pipe.execute()
    failures = int(count or 0)
    if failures >= MAX_FAILURES:
        return LoginCheck(allowed=False, failures=failures, retry_after_seconds=max(1, int(ttl)))
    return LoginCheck(allowed=True, failures=failures)


async def record_login_failure(client: redis.asyncio.Redis, username: str, client_id: str) -> LoginCheck:
    """Count a failed login; the answer says whether the next try is still allowed."""
    count, ttl = await run_script(client, _FAIL, _FAIL_SHA, [_fail_key(username, client_id)], [WINDOW_SECONDS])
    failures = int(count)
    if failures >= MAX_FAILURES:
        return LoginCheck(allowed=False, failures=failures, retry_after_seconds=max(1, int(ttl)))
    return LoginCheck(allowed=True, failures=failures)


async def clear_login_failures(client: redis.asyncio.Redis, username: str, client_id: str) -> None:
    await client.delete(_fail_key(username, client_id))
