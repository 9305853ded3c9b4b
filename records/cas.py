"""Compare-and-set of one JSON record plus the index updates that go with it, in one Lua script.

Writers read a record, decide in Python (pydantic models, not Lua JSON), then send the value they
read, the new value and the follow-up commands. The script applies all of it only if the record is
still exactly what was read; otherwise nothing happens and the caller reads again (``update_loop``).
This is optimistic locking that composes with the gateway's WATCH/MULTI writers of the same keys:
any write changes the stored JSON (``updated_at``), so a stale writer always loses and retries.

Follow-up commands are ordinary Redis commands, plus two conditional ones:

- ``DELIFEQ key value``        delete ``key`` only if it holds ``value``
- ``HDELIFEQ key field value`` delete ``field`` of hash ``key`` only if it holds ``value``

The script keeps no keys of its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import redis
import redis.asyncio
from redis.exceptions import NoScriptError

from records.errors import Conflict, NotFound

Arg = str | int | float
Op = Sequence[Arg]

MAX_ATTEMPTS = 50

_SCRIPT = """
local cur = redis.call('GET', KEYS[1])
if cur == false then cur = '' end
if cur ~= ARGV[1] then return {0} end
redis.call('SET', KEYS[1], ARGV[2])
local out = {1}
local i = 3
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  local cmd = ARGV[i + 1]
  local r
  if cmd == 'DELIFEQ' then
    if redis.call('GET', ARGV[i + 2]) == ARGV[i + 3] then r = redis.call('DEL', ARGV[i + 2]) else r = 0 end
  elseif cmd == 'HDELIFEQ' then
    if redis.call('HGET', ARGV[i + 2], ARGV[i + 3]) == ARGV[i + 4] then
      r = redis.call('HDEL', ARGV[i + 2], ARGV[i + 3])
    else r = 0 end
  else
    r = redis.call(unpack(ARGV, i + 1, i + n))
  end
  if type(r) == 'table' and r.ok then r = r.ok end
  out[#out + 1] = r
  i = i + n + 1
end
return out
"""


T = TypeVar("T")


async def run_script(client: redis.asyncio.Redis, script: str, sha: str, keys: Sequence[str], args: Sequence[Arg]) -> Any:
    """EVALSHA, falling back to EVAL once when the server does not know the script yet."""
    try:
        return await client.evalsha(sha, len(keys), *keys, *args)
    except NoScriptError:
        return await client.eval(script, len(keys), *keys, *args)


def run_script_sync(client: redis.Redis, script: str, sha: str, keys: Sequence[str], args: Sequence[Arg]) -> Any:
    try:
        return client.evalsha(sha, len(keys), *keys, *args)
    except NoScriptError:
        return client.eval(script, len(keys), *keys, *args)


def script_sha(script: str) -> str:
    return hashlib.sha1(script.encode("utf-8")).hexdigest()


_SHA = script_sha(_SCRIPT)


def _flat(ops: Sequence[Op]) -> list[Arg]:
    args: list[Arg] = []
    for op in ops:
        args.append(len(op))
        args.extend(op)
    return args


async def compare_and_set(
    client: redis.asyncio.Redis, key: str, expected: str | None, new: str, ops: Sequence[Op] = ()
) -> list[Any] | None:
    """Set ``key`` to ``new`` and run ``ops`` if it still holds ``expected`` (None: must not exist).

    Returns the ops' replies, or None when the record changed in between (nothing was written).
    """
    result = await run_script(client, _SCRIPT, _SHA, [key], [expected or "", new, *_flat(ops)])
    if not result or int(result[0]) == 0:
        return None
    return list(result[1:])


def compare_and_set_sync(
    client: redis.Redis, key: str, expected: str | None, new: str, ops: Sequence[Op] = ()
) -> list[Any] | None:
    """The same for a blocking client (action server, scripts)."""
    result = run_script_sync(client, _SCRIPT, _SHA, [key], [expected or "", new, *_flat(ops)])
    if not result or int(result[0]) == 0:
        return None
    return list(result[1:])


async def update_loop(
    client: redis.asyncio.Redis,
    key: str,
    load: Callable[[str], T],
    dump: Callable[[T], str],
    change: Callable[[T], tuple[T, Sequence[Op]]],
) -> tuple[T, list[Any]]:
    """Read, ``change`` (may raise Conflict), compare-and-set; again while someone else wrote first."""
    for _ in range(MAX_ATTEMPTS):
        raw = await client.get(key)
        if raw is None:
            raise NotFound(key)
        raw = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        record, ops = change(load(raw))
        replies = await compare_and_set(client, key, raw, dump(record), ops)
        if replies is not None:
            return record, replies
    raise Conflict(f"{key}: too many concurrent writers")


class AlreadyApplied(Exception):  # noqa: N818 - control flow for compare-and-set changes, never escapes records
    """Raised by a change function when this very request was already applied (a retry): nothing is
    written and the caller returns ``record``, the record as it is."""

    def __init__(self, record: Any) -> None:
        super().__init__()
        self.record = record
