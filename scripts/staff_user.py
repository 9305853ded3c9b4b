"""Create a staff account for the console, or give an existing one a new password.

    python scripts/staff_user.py NAME [--display-name 张三]     (make staff-user USER=NAME)

The password is read from standard input: typed twice without echo on a terminal, or the first line
of a pipe (``printf '%s\\n' "$PASSWORD" | python scripts/staff_user.py zhang``). The account goes to
the Redis at ``REDIS_URL`` (default redis://127.0.0.1:6390/0). Any problem ends with one sentence on
standard error and exit status 1; there is no default user and no default password.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from redis.exceptions import RedisError  # noqa: E402

from records import staff_users  # noqa: E402
from records.client import async_client, redis_url  # noqa: E402
from records.errors import Conflict, Invalid  # noqa: E402


class Stop(Exception):
    """One sentence for the operator."""


def read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        second = getpass.getpass("Password again: ")
        if first != second:
            raise Stop("The two passwords differ: nothing was changed, please run it again.")
        return first
    line = sys.stdin.readline()
    if not line:
        raise Stop("No password on standard input: pipe one line, or run it in a terminal to type it.")
    return line.rstrip("\r\n")


async def save(name: str, password: str, display_name: str | None) -> str:
    client = async_client()
    try:
        try:
            await client.ping()
        except RedisError as exc:
            raise Stop(f"Redis does not answer at {redis_url()}: start it (make run) or set REDIS_URL.") from exc
        try:
            user = await staff_users.create_user(client, name, password, display_name)
            return f"Created staff user {user.username} ({user.display_name})."
        except Conflict:
            user = await staff_users.set_password(client, name, password, display_name)
            return f"Updated the password of staff user {user.username} ({user.display_name})."
    finally:
        await client.aclose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Create or update a staff console user.")
    parser.add_argument("name", metavar="NAME", help="username: 3-32 letters, digits, _ or -")
    parser.add_argument("--display-name", help="the name shown in the console (default: NAME)")
    args = parser.parse_args(argv)
    try:
        name = staff_users.check_username(args.name)
    except Invalid:
        print(f"The username {args.name!r} is not allowed: use 3-32 letters, digits, _ or -.", file=sys.stderr)
        return 1
    try:
        password = read_password()
        if len(password) < staff_users.MIN_PASSWORD:
            raise Stop(f"The password is too short: use at least {staff_users.MIN_PASSWORD} characters.")
        if len(password) > staff_users.MAX_PASSWORD:
            raise Stop(f"The password is too long: use at most {staff_users.MAX_PASSWORD} characters.")
        print(asyncio.run(save(name, password, args.display_name)))
    except Stop as stop:
        print(stop, file=sys.stderr)
        return 1
    except (KeyboardInterrupt, EOFError):
        print("Stopped: nothing was changed.", file=sys.stderr)
        return 1
    except RedisError as exc:
        print(f"Redis failed while saving the user ({type(exc).__name__}): nothing may have been saved.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
