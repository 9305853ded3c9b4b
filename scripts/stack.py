"""Start, watch and stop the whole stack: Redis, action server, Rasa, gateway.

Used by ``make run`` (``python scripts/stack.py run``) and by the end-to-end tests, which
import it and start a private stack on free ports. Standard library only, so it runs on
any Python 3.10+ before or after the virtual environments exist.

Configuration comes from environment variables (defaults in brackets):
  REDIS_URL [redis://127.0.0.1:6390/0]  REDIS_MANAGED [1: start a private redis-server
  when REDIS_URL points at this machine; 0: use the server at REDIS_URL as it is]
  RASA_PORT [5005]  ACTION_PORT [5055]  GATEWAY_HOST [127.0.0.1]  GATEWAY_PORT [8080]
  RASA_TOKEN [random, kept in var/rasa_token]  RASA_MODEL [models/current.tar.gz]
  STACK_START_TIMEOUT [240 seconds per service]
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
COLOURS = {"redis": "31", "actions": "33", "rasa": "35", "gateway": "36"}


class StackError(RuntimeError):
    """A problem a person can fix; the message says how."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_in_use(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


@dataclass
class StackConfig:
    redis_url: str = "redis://127.0.0.1:6390/0"
    manage_redis: bool = True
    redis_dir: Path = ROOT / "var" / "redis"
    rasa_port: int = 5005
    action_port: int = 5055
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8080
    rasa_token: str = ""
    model: Path = ROOT / "models" / "current.tar.gz"
    log_dir: Path = ROOT / "var" / "log"
    start_timeout: float = 240.0
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> StackConfig:
        env = os.environ
        url = env.get("REDIS_URL", cls.redis_url)
        return cls(
            redis_url=url,
            manage_redis=env.get("REDIS_MANAGED", "1") != "0" and _host(url) in LOOPBACK,
            rasa_port=int(env.get("RASA_PORT", "5005")),
            action_port=int(env.get("ACTION_PORT", "5055")),
            gateway_host=env.get("GATEWAY_HOST", "127.0.0.1"),
            gateway_port=int(env.get("GATEWAY_PORT", "8080")),
            rasa_token=env.get("RASA_TOKEN") or _stored_token(),
            model=Path(env.get("RASA_MODEL", str(ROOT / "models" / "current.tar.gz"))),
            start_timeout=float(env.get("STACK_START_TIMEOUT", "240")),
        )

    @classmethod
    def on_free_ports(cls, workdir: Path) -> StackConfig:
        """A private stack for tests: every port free, data under workdir."""
        return cls(
            redis_url=f"redis://127.0.0.1:{free_port()}/0",
            redis_dir=workdir / "redis",
            rasa_port=free_port(),
            action_port=free_port(),
            gateway_port=free_port(),
            rasa_token=secrets.token_hex(16),
            log_dir=workdir / "log",
        )

    @property
    def redis_host(self) -> str:
        return _host(self.redis_url)

    @property
    def redis_port(self) -> int:
        return urlparse(self.redis_url).port or 6379

    @property
    def gateway_url(self) -> str:
        return f"http://{self.gateway_host}:{self.gateway_port}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://127.0.0.1:{self.action_port}"

    def env(self) -> dict[str, str]:
        """Environment shared by every service: one source of truth for addresses."""
        parsed = urlparse(self.redis_url)
        env = dict(os.environ)
        env.update(
            REDIS_URL=self.redis_url,
            REDIS_HOST=self.redis_host,
            REDIS_PORT=str(self.redis_port),
            REDIS_PASSWORD=parsed.password or "",
            REDIS_TRACKER_DB=os.environ.get("REDIS_TRACKER_DB", "0"),
            REDIS_LOCK_DB=os.environ.get("REDIS_LOCK_DB", "1"),
            RASA_URL=self.rasa_url,
            RASA_TOKEN=self.rasa_token,
            ACTION_SERVER_URL=f"{self.action_url}/webhook",
            GATEWAY_HOST=self.gateway_host,
            GATEWAY_PORT=str(self.gateway_port),
            HF_HUB_OFFLINE="1",
            TRANSFORMERS_OFFLINE="1",
            # Offline county server: Rasa must not try to send telemetry or crash reports.
            RASA_TELEMETRY_ENABLED=os.environ.get("RASA_TELEMETRY_ENABLED", "false"),
            SANIC_HOST="127.0.0.1",  # rasa-sdk binds 0.0.0.0 unless told
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env


def _host(url: str) -> str:
    return urlparse(url).hostname or "127.0.0.1"


def _stored_token() -> str:
    path = ROOT / "var" / "rasa_token"
    if path.exists() and path.read_text().strip():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    path.write_text(token + "\n")
    path.chmod(0o600)
    return token


# --- health probes (each returns None when healthy, else a short reason) ------------------
def http_ok(url: str, timeout: float = 2.0) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return None if resp.status == 200 else f"HTTP {resp.status}"
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        return str(exc)


def redis_ok(host: str, port: int, password: str | None = None) -> str | None:
    try:
        with socket.create_connection((host, port), timeout=2) as s:
            if password:
                s.sendall(f"AUTH {password}\r\n".encode())
                s.recv(64)
            s.sendall(b"PING\r\n")
            reply = s.recv(64)
        return None if reply.startswith(b"+PONG") else reply.decode(errors="replace").strip()
    except OSError as exc:
        return str(exc)


def rasa_ok(base: str, token: str) -> str | None:
    try:
        with urllib.request.urlopen(f"{base}/status?token={token}", timeout=2) as resp:
            status = json.loads(resp.read())
        return None if status.get("model_file") else "no model loaded"
    except (OSError, ValueError) as exc:
        return str(exc)


# --- processes ----------------------------------------------------------------------------
class Service:
    def __init__(self, name: str, cmd: list[str], env: dict[str, str], log_dir: Path, echo: bool):
        self.name, self.cmd, self.env, self.echo = name, cmd, env, echo
        self.log_path = log_dir / f"{name}.log"
        self.tail: deque[str] = deque(maxlen=40)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            self.cmd,
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches only the launcher, which stops us in order
        )
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc and self.proc.stdout
        colour = COLOURS.get(self.name, "0")
        prefix = f"\033[{colour}m{self.name:>8} |\033[0m " if sys.stdout.isatty() else f"{self.name:>8} | "
        with self.log_path.open("ab") as log:
            for raw in self.proc.stdout:
                log.write(raw)
                log.flush()
                line = raw.decode(errors="replace").rstrip()
                self.tail.append(line)
                if self.echo:
                    print(prefix + line, flush=True)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        if not self.alive():
            return
        assert self.proc
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        except ProcessLookupError:
            pass


class Stack:
    """The four services, started in dependency order and stopped in reverse."""

    def __init__(self, config: StackConfig, echo: bool = False):
        self.config = config
        self.echo = echo
        self.services: list[Service] = []

    # What each service runs; paths are the virtual environments made by scripts/setup.sh.
    def _commands(self) -> list[tuple[str, list[str], Callable[[], str | None]]]:
        c = self.config
        app_py = str(ROOT / ".venv" / "app" / "bin" / "python")
        rasa = str(ROOT / ".venv" / "rasa" / "bin" / "rasa")
        password = urlparse(c.redis_url).password
        items: list[tuple[str, list[str], Callable[[], str | None]]] = []
        if c.manage_redis:
            items.append(
                (
                    "redis",
                    [
                        "redis-server", "--bind", "127.0.0.1", "--port", str(c.redis_port),
                        "--dir", str(c.redis_dir), "--appendonly", "yes", "--daemonize", "no",
                        "--protected-mode", "yes",
                        *(["--requirepass", password] if password else []),
                    ],
                    lambda: redis_ok(c.redis_host, c.redis_port, password),
                )
            )
        items += [
            (
                "actions",
                [app_py, "-m", "rasa_sdk", "--actions", "actions", "-p", str(c.action_port)],
                lambda: http_ok(f"{c.action_url}/health"),
            ),
            (
                "rasa",
                [
                    rasa, "run", "--enable-api", "--auth-token", c.rasa_token,
                    "-i", "127.0.0.1", "-p", str(c.rasa_port), "-m", str(c.model),
                    "--endpoints", "endpoints.yml", "--credentials", "credentials.yml",
                ],
                lambda: rasa_ok(c.rasa_url, c.rasa_token),
            ),
            (
                "gateway",
                [app_py, "-m", "bot"],
                lambda: http_ok(f"{c.gateway_url}/healthz"),
            ),
        ]
        return items

    def preflight(self) -> None:
        c = self.config
        needed = {
            ROOT / ".venv" / "app" / "bin" / "python": "the app environment",
            ROOT / ".venv" / "rasa" / "bin" / "rasa": "the Rasa environment",
        }
        for path, what in needed.items():
            if not path.exists():
                raise StackError(f"{what} is missing ({path}): run 'make setup' first.")
        if not c.model.exists():
            raise StackError(f"No trained Rasa model at {c.model}: run 'make setup' to train one.")
        ports = [(c.gateway_host, c.gateway_port, "gateway", "GATEWAY_PORT"),
                 ("127.0.0.1", c.rasa_port, "Rasa", "RASA_PORT"),
                 ("127.0.0.1", c.action_port, "action server", "ACTION_PORT")]
        if c.manage_redis:
            ports.append(("127.0.0.1", c.redis_port, "Redis", "REDIS_URL"))
            if not _which("redis-server"):
                raise StackError("redis-server is not installed: run 'make setup' (or 'apt-get install redis-server').")
        elif redis_ok(c.redis_host, c.redis_port, urlparse(c.redis_url).password) is not None:
            raise StackError(f"No Redis answers at {c.redis_url}: start it, or unset REDIS_URL to use a private one.")
        for host, port, what, var in ports:
            if port_in_use(host, port):
                raise StackError(
                    f"Port {port} ({what}) is already in use: stop what is using it "
                    f"(an earlier 'make run'?) or set {var} to another port."
                )

    def start(self) -> None:
        self.preflight()
        self.config.redis_dir.mkdir(parents=True, exist_ok=True)
        env = self.config.env()
        try:
            for name, cmd, probe in self._commands():
                service = Service(name, cmd, env, self.config.log_dir, self.echo)
                self.services.append(service)
                service.start()
                self._wait(service, probe)
        except BaseException:
            self.stop()
            raise

    def _wait(self, service: Service, probe: Callable[[], str | None]) -> None:
        deadline = time.monotonic() + self.config.start_timeout
        reason: str | None = "not started"
        while time.monotonic() < deadline:
            if not service.alive():
                time.sleep(0.3)  # let the log pump catch the last lines
                tail = "\n".join(list(service.tail)[-15:])
                raise StackError(f"{service.name} exited during start-up (log: {service.log_path}):\n{tail}")
            reason = probe()
            if reason is None:
                self._log(f"{service.name} is up")
                return
            time.sleep(0.5)
        raise StackError(
            f"{service.name} did not become healthy within {self.config.start_timeout:.0f}s "
            f"({reason}); see {service.log_path}."
        )

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

    def stop_service(self, name: str) -> None:
        """Stop one service (tests use it to check how the others cope)."""
        self.service(name).stop()

    def restart_service(self, name: str) -> None:
        """Start a stopped service again with its original command and wait until healthy."""
        old = self.service(name)
        old.stop()
        probe = next(p for n, _c, p in self._commands() if n == name)
        fresh = Service(name, old.cmd, old.env, self.config.log_dir, self.echo)
        self.services[self.services.index(old)] = fresh
        fresh.start()
        self._wait(fresh, probe)

    def dead(self) -> list[str]:
        return [s.name for s in self.services if not s.alive()]

    def stop(self) -> None:
        for service in reversed(self.services):
            if service.alive():
                self._log(f"stopping {service.name}")
            service.stop()
        self.services.clear()

    def _log(self, msg: str) -> None:
        if self.echo:
            print(f"{'stack':>8} | {msg}", flush=True)

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _which(cmd: str) -> bool:
    from shutil import which

    return which(cmd) is not None


def run_forever() -> int:
    config = StackConfig.from_env()
    stack = Stack(config, echo=True)
    stopping = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        stack.start()
    except StackError as exc:
        print(f"\n[stack] {exc}", file=sys.stderr)
        return 1
    if stopping.is_set():
        stack.stop()
        return 0
    print(
        "\n一件事导办助手 is running:\n"
        f"  gateway      {config.gateway_url}   (POST /api/chat, GET /api/things?q=, GET /healthz)\n"
        f"  Rasa         {config.rasa_url}   (API token in var/rasa_token or RASA_TOKEN)\n"
        f"  actions      {config.action_url}\n"
        f"  redis        {config.redis_url}\n"
        "Press Ctrl-C to stop everything.\n",
        flush=True,
    )
    code = 0
    while not stopping.wait(1.0):
        dead = stack.dead()
        if dead:
            print(f"\n[stack] {', '.join(dead)} stopped unexpectedly; stopping the rest.", file=sys.stderr)
            code = 1
            break
    stack.stop()
    print("[stack] stopped.", flush=True)
    return code


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] != "run":
        print("usage: python scripts/stack.py run", file=sys.stderr)
        sys.exit(2)
    sys.exit(run_forever())
