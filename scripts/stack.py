"""Start, supervise and stop the whole stack: Redis, action server, Rasa, gateway (and the Telegram
channel when TELEGRAM_TOKEN is set).

Used by ``make run`` (``python scripts/stack.py run``) and by the end-to-end tests, which
import it and start a private stack on free ports. Standard library only, so it runs on
any Python 3.10+ before or after the virtual environments exist.

Supervision (the same code in ``make run`` and in the tests, one watcher thread per service):
- every service runs in its own process group; when its main process dies, the whole group
  is SIGKILLed (no orphan keeps a port) and the service is started again after a back-off
  (1 s, doubling to 30 s; back to 1 s once it stayed healthy for 60 s). The other services
  keep running.
- a service whose health probe fails 3 times in a row (2 s timeout, one probe every 2 s) is
  taken as hung: its group is SIGKILLed and it is restarted the same way. A restarted
  service that is not healthy within STACK_START_TIMEOUT is killed and tried again.
- Rasa has a warm standby: once Rasa is healthy, a second Rasa process loads the model and waits
  without listening (scripts/rasa_serve.py --standby). When Rasa dies, the standby is told to
  listen (well under a second, instead of a ~25 s cold start) and a new standby starts loading.
  Costs about 1 GB of memory; STACK_RASA_STANDBY=0 turns it off.
- ``stop_service`` (tests) stops a service and keeps it down until ``restart_service``.
- at start-up a process of ours still holding one of the ports (its working directory or
  command line is in this repository, or its group is recorded in var/run/) is killed; a
  stranger's process stops the start with a sentence saying what to do.
- Rasa gets its API token and the action server its shared secret through the environment,
  never on a command line (scripts/rasa_serve.py, scripts/actions_serve.py).
- each service's output goes to <log dir>/<service>.log, rotated by size; the supervisor's own
  events (restart, back-off, hung, stale process killed) go one line each to stack.log.

Configuration comes from environment variables (defaults in brackets):
  REDIS_URL [redis://127.0.0.1:6390/0]  REDIS_MANAGED [1: start a private redis-server
  when REDIS_URL points at this machine; 0: use the server at REDIS_URL as it is]
  RASA_PORT [5005]  ACTION_PORT [5055]  GATEWAY_HOST [127.0.0.1]  GATEWAY_PORT [8080]
  RASA_TOKEN [random, kept in var/rasa_token]  RASA_MODEL [models/current.tar.gz]
  ACTION_SERVER_TOKEN [random, kept in var/action_token]
  STACK_START_TIMEOUT [240 seconds per service]
  STACK_LOG_MAX_MB [10]  STACK_LOG_FILES [5: files kept per service, the live one included]
  STACK_RASA_STANDBY [1: keep a warm standby Rasa; 0: none]
  TELEGRAM_TOKEN [unset: no Telegram channel; set: ``python -m bot.telegram`` runs too, supervised
  like the others; its sign of life is a heartbeat file it touches every 5 s (var/run/telegram.alive)]
"""

from __future__ import annotations

import json
import logging
import logging.handlers
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
STANDBY_READY = "rasa_serve: standby ready"  # printed by scripts/rasa_serve.py --standby
COLOURS = {"redis": "31", "actions": "33", "rasa": "35", "gateway": "36", "telegram": "34", "stack": "32"}
HEARTBEAT_STALE_SECONDS = 20.0  # the Telegram process touches its heartbeat file every 5 s

Probe = Callable[[], "str | None"]


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
    redis_conf: Path = ROOT / "deploy" / "redis.conf"
    rasa_port: int = 5005
    action_port: int = 5055
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8080
    rasa_token: str = ""
    action_token: str = ""
    model: Path = ROOT / "models" / "current.tar.gz"
    log_dir: Path = ROOT / "var" / "log"
    run_dir: Path = ROOT / "var" / "run"
    start_timeout: float = 240.0
    log_max_bytes: int = 10 * 1024 * 1024
    log_files: int = 5
    # supervision
    supervise: bool = True
    backoff_first: float = 1.0
    backoff_max: float = 30.0
    stable_after: float = 60.0
    probe_interval: float = 2.0
    probe_timeout: float = 2.0
    hung_after: int = 3
    rasa_standby: bool = True
    telegram: bool = False  # run the Telegram channel (python -m bot.telegram); from_env: TELEGRAM_TOKEN set
    telegram_heartbeat_file: Path | None = None  # from_env: TELEGRAM_HEARTBEAT_FILE; None = run_dir/telegram.alive
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> StackConfig:
        env = os.environ
        url = env.get("REDIS_URL", cls.redis_url)
        return cls(
            redis_url=url,
            manage_redis=env.get("REDIS_MANAGED", "1") != "0" and _host(url) in LOOPBACK,
            rasa_port=_int_env("RASA_PORT", 5005),
            action_port=_int_env("ACTION_PORT", 5055),
            gateway_host=env.get("GATEWAY_HOST", "127.0.0.1"),
            gateway_port=_int_env("GATEWAY_PORT", 8080),
            rasa_token=env.get("RASA_TOKEN") or _stored_secret("rasa_token"),
            action_token=env.get("ACTION_SERVER_TOKEN") or _stored_secret("action_token"),
            model=Path(env.get("RASA_MODEL", str(ROOT / "models" / "current.tar.gz"))),
            start_timeout=float(_int_env("STACK_START_TIMEOUT", 240)),
            log_max_bytes=_int_env("STACK_LOG_MAX_MB", 10) * 1024 * 1024,
            log_files=_int_env("STACK_LOG_FILES", 5),
            rasa_standby=os.environ.get("STACK_RASA_STANDBY", "1") != "0",
            telegram=bool(env.get("TELEGRAM_TOKEN", "").strip()),
            telegram_heartbeat_file=Path(v) if (v := env.get("TELEGRAM_HEARTBEAT_FILE", "").strip()) else None,
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
            action_token=secrets.token_hex(16),
            log_dir=workdir / "log",
            run_dir=workdir / "run",
        )

    @property
    def telegram_heartbeat(self) -> Path:
        return self.telegram_heartbeat_file or self.run_dir / "telegram.alive"

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
        """Environment shared by every service: one source of truth for addresses and secrets."""
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
            ACTION_PORT=str(self.action_port),
            ACTION_SERVER_URL=f"{self.action_url}/webhook",
            ACTION_SERVER_TOKEN=self.action_token,
            GATEWAY_HOST=self.gateway_host,
            GATEWAY_PORT=str(self.gateway_port),
            HF_HUB_OFFLINE="1",
            TRANSFORMERS_OFFLINE="1",
            # Offline county server: Rasa must not try to send telemetry or crash reports.
            RASA_TELEMETRY_ENABLED=os.environ.get("RASA_TELEMETRY_ENABLED", "false"),
            SANIC_HOST="127.0.0.1",  # rasa-sdk binds 0.0.0.0 unless told
            PYTHONUNBUFFERED="1",
            TELEGRAM_HEARTBEAT_FILE=str(self.telegram_heartbeat),
        )
        env.update(self.extra_env)
        return env


def _host(url: str) -> str:
    return urlparse(url).hostname or "127.0.0.1"


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise StackError(f"{name}={raw!r} is not a whole number: fix or unset it.") from None
    if value < 0:
        raise StackError(f"{name}={raw!r} must not be negative: fix or unset it.")
    return value


def _stored_secret(name: str) -> str:
    """A random secret kept in var/<name> (mode 600), made on first use."""
    path = ROOT / "var" / name
    if path.exists() and path.read_text().strip():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(token + "\n")
    path.chmod(0o600)
    return token


# --- health probes (each returns None when healthy, else a short reason) ------------------
def http_ok(url: str, timeout: float = 2.0, accept: tuple[int, ...] = (200,)) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return None if resp.status in accept else f"HTTP {resp.status}"
    except urllib.error.HTTPError as exc:
        return None if exc.code in accept else f"HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        return str(exc) or type(exc).__name__


def file_fresh(path: Path, max_age: float) -> str | None:
    """Healthy when ``path`` was modified within ``max_age`` seconds (a heartbeat file)."""
    try:
        age = time.time() - path.stat().st_mtime
    except OSError:
        return "no heartbeat yet"
    return None if age <= max_age else f"heartbeat {age:.0f}s old"


def redis_ok(host: str, port: int, password: str | None = None, timeout: float = 2.0) -> str | None:
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            if password:
                s.sendall(f"AUTH {password}\r\n".encode())
                s.recv(64)
            s.sendall(b"PING\r\n")
            reply = s.recv(64)
        return None if reply.startswith(b"+PONG") else reply.decode(errors="replace").strip()
    except OSError as exc:
        return str(exc) or type(exc).__name__


def rasa_ok(base: str, token: str, timeout: float = 2.0) -> str | None:
    try:
        with urllib.request.urlopen(f"{base}/status?token={token}", timeout=timeout) as resp:
            status = json.loads(resp.read())
        return None if status.get("model_file") else "no model loaded"
    except (OSError, ValueError) as exc:
        return str(exc) or type(exc).__name__


# --- logs -----------------------------------------------------------------------------------
def rotating_log(path: Path, max_bytes: int, files: int) -> logging.Handler:
    """A size-rotated file: ``files`` files of at most ``max_bytes`` each (live one included)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=max_bytes, backupCount=max(files - 1, 0), encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(message)s"))
    return handler


def write_line(handler: logging.Handler, line: str) -> None:
    handler.handle(logging.makeLogRecord({"msg": line, "levelno": logging.INFO, "levelname": "INFO"}))


# --- processes on our ports -----------------------------------------------------------------
def listening_pids(port: int) -> set[int]:
    """Pids of the processes with a listening TCP socket on ``port`` (read from /proc)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if len(cols) > 9 and cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{cols[9]}]")
    pids: set[int] = set()
    if not inodes:
        return pids
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) in inodes:
                    pids.add(int(proc.name))
                    break
        except OSError:
            continue
    return pids


def cmdline(pid: int) -> str:
    """The process's command line on one line (arguments and any white space in them joined by spaces)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""
    return " ".join(raw.replace("\0", " ").split())


def start_time(pid: int) -> str:
    """The process's start time in clock ticks (tells a pid from a later one that reused it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def group_pids(pgid: int) -> list[int]:
    """Live (non-zombie) processes in process group ``pgid``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(proc.name))
    return found


def kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# --- one supervised service ----------------------------------------------------------------
class Service:
    """One service: its process group, its rotated log and (optionally) a watcher thread."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], config: StackConfig,
                 probe: Probe, events: Callable[[str], None], echo: bool = False,
                 standby_cmd: list[str] | None = None):
        self.name, self.cmd, self.env, self.config, self.probe, self.echo = name, cmd, env, config, probe, echo
        # A warm standby: a second process that loads everything, then waits for a line on its
        # stdin before it listens (scripts/rasa_serve.py --standby); promoted when the main dies.
        self.standby_cmd = standby_cmd
        self.spare: subprocess.Popen[bytes] | None = None
        self.spare_ready = threading.Event()
        self._spare_retry_at = 0.0
        self._event = events
        self.log_path = config.log_dir / f"{name}.log"
        self.log = rotating_log(self.log_path, config.log_max_bytes, config.log_files)
        self.tail: deque[str] = deque(maxlen=40)
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self.held = False  # deliberately stopped: the watcher leaves it alone
        self._lock = threading.RLock()
        self._closing = threading.Event()
        self._watcher: threading.Thread | None = None

    # process ---------------------------------------------------------------------------------
    @property
    def pgid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self) -> None:
        with self._lock:
            self.proc = self._spawn(self.cmd)
            self._record_pgid(self.proc, self.name)

    def _spawn(self, cmd: list[str], spare: bool = False) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.PIPE if spare else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killed as a whole
        )
        threading.Thread(target=self._pump, args=(proc,), daemon=True).start()
        return proc

    def _record_pgid(self, proc: subprocess.Popen[bytes], name: str) -> None:
        self.config.run_dir.mkdir(parents=True, exist_ok=True)
        (self.config.run_dir / f"{name}.pgid").write_text(f"{proc.pid} {start_time(proc.pid)}\n")

    def _pump(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout
        colour = COLOURS.get(self.name, "0")
        for raw in proc.stdout:
            line = raw.decode(errors="replace").rstrip()
            name = self.name if proc is not self.spare else f"{self.name}~"  # ~ = the warm standby
            write_line(self.log, line if name == self.name else f"[standby] {line}")
            if proc is self.spare and STANDBY_READY in line:
                self.spare_ready.set()
            self.tail.append(line)
            if self.echo:
                prefix = f"\033[{colour}m{name:>8} |\033[0m " if sys.stdout.isatty() else f"{name:>8} | "
                print(prefix + line, flush=True)

    # warm standby ------------------------------------------------------------------------------
    def keep_spare(self) -> None:
        """Have a warm standby running (when this service has one); retry a dead one later."""
        if not self.standby_cmd or self.held or self._closing.is_set():
            return
        with self._lock:
            if self.spare is not None and self.spare.poll() is None:
                return
            if self.spare is not None:
                self._event(f"{self.name} standby exited (code {self.spare.returncode}); "
                            f"next try in {self.config.backoff_max:g}s")
                kill_group(self.spare.pid)
                self.spare = None
                self._spare_retry_at = time.monotonic() + self.config.backoff_max
                return
            if time.monotonic() < self._spare_retry_at:
                return
            self.spare_ready.clear()
            self.spare = self._spawn(self.standby_cmd, spare=True)
            self._record_pgid(self.spare, f"{self.name}-standby")
            self._event(f"{self.name} warm standby starting (pid {self.spare.pid})")

    def _promote_spare(self) -> bool:
        """Tell a loaded standby to listen and make it the service's process."""
        spare = self.spare
        if spare is None or spare.poll() is not None or not self.spare_ready.is_set() or spare.stdin is None:
            return False
        try:
            spare.stdin.write(b"go\n")
            spare.stdin.flush()
        except OSError:
            return False
        self.proc, self.spare = spare, None
        self._record_pgid(spare, self.name)
        (self.config.run_dir / f"{self.name}-standby.pgid").unlink(missing_ok=True)
        return True

    def drop_standby(self, for_seconds: float) -> None:
        """Kill the warm standby and start none for ``for_seconds`` (to measure a cold restart)."""
        self._spare_retry_at = time.monotonic() + for_seconds
        self.stop_spare()

    def stop_spare(self) -> None:
        with self._lock:
            if self.spare is not None:
                kill_group(self.spare.pid)
                try:
                    self.spare.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
                self.spare = None
            (self.config.run_dir / f"{self.name}-standby.pgid").unlink(missing_ok=True)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group (the main process and anything it started)."""
        with self._lock:
            if self.proc is None:
                return
            kill_group(self.proc.pid)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM the group, SIGKILL it after ``timeout``; also kills orphans of a dead main."""
        self.stop_spare()
        with self._lock:
            if self.proc is None:
                return
            pgid = self.proc.pid
            if self.alive():
                try:
                    os.killpg(pgid, signal.SIGTERM)
                    self.proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    pass
                except ProcessLookupError:
                    pass
            self.kill()
            (self.config.run_dir / f"{self.name}.pgid").unlink(missing_ok=True)

    # waiting and watching -------------------------------------------------------------------
    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        reason: str | None = "not started"
        while time.monotonic() < deadline:
            if not self.alive():
                time.sleep(0.3)  # let the log pump catch the last lines
                tail = "\n".join(list(self.tail)[-15:])
                raise StackError(f"{self.name} exited during start-up (log: {self.log_path}):\n{tail}")
            reason = self.probe()
            if reason is None:
                return
            time.sleep(0.3)
        raise StackError(
            f"{self.name} did not become healthy within {timeout:.0f}s ({reason}); see {self.log_path}."
        )

    def watch(self) -> None:
        self._closing.clear()
        self._watcher = threading.Thread(target=self._watch, name=f"watch-{self.name}", daemon=True)
        self._watcher.start()

    def unwatch(self) -> None:
        self._closing.set()
        if self._watcher and self._watcher is not threading.current_thread():
            self._watcher.join(timeout=30)
        self._watcher = None

    def _watch(self) -> None:
        c = self.config
        backoff = c.backoff_first
        started = time.monotonic()
        healthy_since: float | None = started  # watch() is called once the service is healthy
        failures = 0
        while not self._closing.wait(c.probe_interval if self.alive() else 0.2):
            if self.held:
                started, healthy_since, failures = time.monotonic(), None, 0
                continue
            if not self.alive():
                backoff = self._restart_after_exit(backoff)
                started, healthy_since, failures = time.monotonic(), None, 0
                continue
            reason = self.probe()
            now = time.monotonic()
            if reason is None:
                failures = 0
                if healthy_since is None:
                    healthy_since = now
                    if self.restarts:
                        self._event(f"{self.name} is healthy again ({now - started:.1f}s after its restart)")
                elif now - healthy_since >= c.stable_after:
                    backoff = c.backoff_first
                self.keep_spare()
            elif healthy_since is None:
                if now - started > c.start_timeout:
                    self._event(f"{self.name} not healthy {c.start_timeout:.0f}s after its start ({reason}); "
                                "killing it")
                    self._kill_unless_held()
            else:
                failures += 1
                if failures >= c.hung_after:
                    self._event(f"{self.name} is hung: {failures} health probes failed in a row ({reason}); "
                                "killing its process group")
                    self._kill_unless_held()

    def _kill_unless_held(self) -> None:
        with self._lock:
            if not self.held:
                self.kill()

    def _restart_after_exit(self, backoff: float) -> float:
        """The main process is gone: kill its group, wait the back-off, start again."""
        with self._lock:
            if self.held or self.proc is None or self.alive():
                return backoff
            code = self.proc.returncode
            leftovers = group_pids(self.proc.pid)
            self.kill()
            extra = f"; killed {len(leftovers)} leftover process(es) of its group" if leftovers else ""
            if self._promote_spare():
                assert self.proc
                self.restarts += 1
                self._event(f"{self.name} exited (code {code}){extra}; promoted its warm standby "
                            f"(pid {self.proc.pid}, restart #{self.restarts})")
                return backoff
        self._event(f"{self.name} exited (code {code}){extra}; restarting in {backoff:g}s")
        if self._closing.wait(backoff):
            return backoff
        with self._lock:
            if self.held:
                return backoff
            self.restarts += 1
            self.start()
            assert self.proc
            self._event(f"{self.name} restarted (pid {self.proc.pid}, restart #{self.restarts})")
        return min(backoff * 2, self.config.backoff_max)


def health_probes(c: StackConfig) -> dict[str, Probe]:
    """How each service's health is judged: by the supervisor here and by the production watchdog
    (scripts/health_watchdog.py), so both call the same thing hung."""
    password = urlparse(c.redis_url).password
    t = c.probe_timeout
    return {
        "redis": lambda: redis_ok(c.redis_host, c.redis_port, password, t),
        "actions": lambda: http_ok(f"{c.action_url}/health", t),
        "rasa": lambda: rasa_ok(c.rasa_url, c.rasa_token, t),
        # The gateway is alive when it answers /healthz at all (503 = a dependency is down). Its
        # own checks may each take HEALTH_TIMEOUT_SECONDS (2 s) when a dependency hangs: wait longer.
        "gateway": lambda: http_ok(f"{c.gateway_url}/healthz", t + 3, accept=(200, 503)),
        # No port in polling mode: the process touches a file every 5 s while its event loop runs.
        "telegram": lambda: file_fresh(c.telegram_heartbeat, HEARTBEAT_STALE_SECONDS),
    }


class Stack:
    """The four services, started in dependency order, supervised, stopped in reverse."""

    def __init__(self, config: StackConfig, echo: bool = False):
        self.config = config
        self.echo = echo
        self.services: list[Service] = []
        self._events: logging.Handler | None = None

    # What each service runs; paths are the virtual environments made by scripts/setup.sh.
    def _commands(self) -> list[tuple[str, list[str], Probe]]:
        c = self.config
        app_py = str(ROOT / ".venv" / "app" / "bin" / "python")
        rasa_py = str(ROOT / ".venv" / "rasa" / "bin" / "python")
        probes = health_probes(c)
        items: list[tuple[str, list[str], Probe]] = []
        if c.manage_redis:
            items.append(("redis", ["redis-server", str(c.run_dir / "redis.conf")], probes["redis"]))
        items += [
            ("actions", [app_py, str(ROOT / "scripts" / "actions_serve.py"), "--port", str(c.action_port)],
             probes["actions"]),
            ("rasa", [rasa_py, str(ROOT / "scripts" / "rasa_serve.py"),
                      "-i", "127.0.0.1", "-p", str(c.rasa_port), "-m", str(c.model),
                      "--endpoints", "endpoints.yml", "--credentials", "credentials.yml"],
             probes["rasa"]),
            ("gateway", [app_py, "-m", "bot"], probes["gateway"]),
        ]
        if c.telegram:  # its token reaches it through the environment only
            items.append(("telegram", [app_py, "-m", "bot.telegram"], probes["telegram"]))
        return items

    def _write_redis_conf(self) -> None:
        """var/run/redis.conf: deploy/redis.conf plus this stack's port, directory and password."""
        c = self.config
        password = urlparse(c.redis_url).password
        lines = [f'include "{c.redis_conf}"', f"port {c.redis_port}", f'dir "{c.redis_dir}"']
        if password:
            lines.append(f'requirepass "{password}"')
        path = c.run_dir / "redis.conf"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write("\n".join(lines) + "\n")

    # start-up checks --------------------------------------------------------------------------
    def preflight(self) -> None:
        c = self.config
        needed = {
            ROOT / ".venv" / "app" / "bin" / "python": "the app environment",
            ROOT / ".venv" / "rasa" / "bin" / "python": "the Rasa environment",
        }
        for path, what in needed.items():
            if not path.exists():
                raise StackError(f"{what} is missing ({path}): run 'make setup' first.")
        if not c.model.exists():
            raise StackError(f"No trained Rasa model at {c.model}: run 'make setup' to train one.")
        if not c.rasa_token or not c.action_token:
            raise StackError("RASA_TOKEN and ACTION_SERVER_TOKEN must not be empty: unset them to use the stored ones.")
        self._refuse_second_supervisor()
        ports = [(c.gateway_host, c.gateway_port, "gateway", "GATEWAY_PORT"),
                 ("127.0.0.1", c.rasa_port, "Rasa", "RASA_PORT"),
                 ("127.0.0.1", c.action_port, "action server", "ACTION_PORT")]
        if c.manage_redis:
            ports.append(("127.0.0.1", c.redis_port, "Redis", "REDIS_URL"))
            if not _which("redis-server"):
                raise StackError("redis-server is not installed: run 'make setup' (or 'apt-get install redis-server').")
            if not c.redis_conf.exists():
                raise StackError(f"The Redis settings file {c.redis_conf} is missing: restore it from git.")
        elif redis_ok(c.redis_host, c.redis_port, urlparse(c.redis_url).password) is not None:
            raise StackError(f"No Redis answers at {c.redis_url}: start it, or unset REDIS_URL to use a private one.")
        for host, port, what, var in ports:
            if port_in_use(host, port):
                self._clear_port(port, what, var)

    def _refuse_second_supervisor(self) -> None:
        path = self.config.run_dir / "stack.pid"
        try:
            pid_text, started = path.read_text().split()
            pid = int(pid_text)
        except (OSError, ValueError):
            return
        if pid != os.getpid() and start_time(pid) == started:
            raise StackError(
                f"Another supervisor (pid {pid}, '{cmdline(pid)[:80]}') is already running this stack: "
                "stop it (Ctrl-C in its terminal, or kill {pid}) before starting a second one.".replace("{pid}", str(pid))
            )

    def _recorded_groups(self) -> set[int]:
        groups: set[int] = set()
        for path in self.config.run_dir.glob("*.pgid"):
            try:
                pid_text, started = path.read_text().split()
                if start_time(int(pid_text)) == started:
                    groups.add(int(pid_text))
            except (OSError, ValueError):
                continue
        return groups

    def _is_ours(self, pid: int) -> bool:
        try:
            cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
        except OSError:
            cwd = None
        try:
            pgid = os.getpgid(pid)
        except ProcessLookupError:
            return False
        return (cwd is not None and (cwd == ROOT or ROOT in cwd.parents)) or str(ROOT) in cmdline(pid) \
            or pgid in self._recorded_groups()

    def _clear_port(self, port: int, what: str, var: str) -> None:
        """A port we need is taken: kill the holder if it is a leftover of ours, else explain."""
        pids = listening_pids(port)
        strangers = [p for p in pids if not self._is_ours(p)]
        if not pids or strangers:
            who = f" by pid {strangers[0]} ('{cmdline(strangers[0])[:80]}')" if strangers else ""
            raise StackError(
                f"Port {port} ({what}) is already in use{who}: stop what is using it "
                f"or set {var} to another port."
            )
        for pid in pids:
            try:
                pgid = os.getpgid(pid)
            except ProcessLookupError:
                continue
            if pgid == os.getpgid(0):
                raise StackError(f"Port {port} ({what}) is held by this very process group; set {var} to another port.")
            self._event(f"killing stale process group {pgid} of this stack holding port {port} ({what}): "
                        f"pid {pid} '{cmdline(pid)[:80]}'")
            kill_group(pgid)
        deadline = time.monotonic() + 10
        while port_in_use("127.0.0.1", port) and time.monotonic() < deadline:
            time.sleep(0.1)
        if port_in_use("127.0.0.1", port):
            raise StackError(f"Port {port} ({what}) is still in use after killing the stale process; free it by hand.")

    # life cycle -------------------------------------------------------------------------------
    def start(self) -> None:
        c = self.config
        c.run_dir.mkdir(parents=True, exist_ok=True)
        self._events = rotating_log(c.log_dir / "stack.log", c.log_max_bytes, c.log_files)
        self.preflight()
        c.redis_dir.mkdir(parents=True, exist_ok=True)
        (c.run_dir / "stack.pid").write_text(f"{os.getpid()} {start_time(os.getpid())}\n")
        if c.manage_redis:
            self._write_redis_conf()
        c.telegram_heartbeat.unlink(missing_ok=True)  # a stale one would look healthy
        env = c.env()
        try:
            for name, cmd, probe in self._commands():
                standby = [*cmd, "--standby"] if name == "rasa" and c.rasa_standby and c.supervise else None
                service = Service(name, cmd, env, c, probe, self._event, self.echo, standby_cmd=standby)
                self.services.append(service)
                service.start()
                service.wait_healthy(c.start_timeout)
                self._event(f"{name} is up (pid {service.proc.pid if service.proc else '?'})")
        except BaseException:
            self.stop()
            raise
        if c.supervise:
            for service in self.services:
                service.watch()

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

    def stop_service(self, name: str) -> None:
        """Stop one service and keep it down until ``restart_service`` (tests use it)."""
        service = self.service(name)
        with service._lock:
            service.held = True
            service.stop()
        self._event(f"{name} stopped on request; it stays down until restarted")

    def restart_service(self, name: str) -> None:
        """Start a stopped service again with its original command and wait until healthy."""
        service = self.service(name)
        with service._lock:
            service.held = True
            service.stop()
            service.start()
        try:
            service.wait_healthy(self.config.start_timeout)
        finally:
            service.held = False
        self._event(f"{name} restarted on request")

    def dead(self) -> list[str]:
        return [s.name for s in self.services if not s.alive()]

    def stop(self) -> None:
        for service in self.services:
            service.unwatch()
        for service in reversed(self.services):
            if service.alive():
                self._event(f"stopping {service.name}")
            service.stop()
        self.services.clear()
        stack_pid = self.config.run_dir / "stack.pid"
        if stack_pid.exists() and stack_pid.read_text().split()[:1] == [str(os.getpid())]:
            stack_pid.unlink()

    def _event(self, msg: str) -> None:
        line = f"{time.strftime('%Y-%m-%d %H:%M:%S')} {msg}"
        if self._events is not None:
            write_line(self._events, line)
        if self.echo:
            colour = COLOURS["stack"]
            prefix = f"\033[{colour}m{'stack':>8} |\033[0m " if sys.stdout.isatty() else f"{'stack':>8} | "
            print(prefix + msg, flush=True)

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _which(cmd: str) -> bool:
    from shutil import which

    return which(cmd) is not None


def run_forever() -> int:
    try:
        config = StackConfig.from_env()
    except StackError as exc:
        print(f"\n[stack] {exc}", file=sys.stderr)
        return 1
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
        + (f"  telegram     on ({os.environ.get('TELEGRAM_MODE') or 'polling'}; see docs/telegram.md)\n"
           if config.telegram else "  telegram     off (set TELEGRAM_TOKEN to start it)\n")
        + f"Logs: {config.log_dir}/<service>.log (at most {config.log_files} x "
        f"{config.log_max_bytes // (1024 * 1024)} MB each). A service that dies is restarted.\n"
        "Press Ctrl-C to stop everything.\n",
        flush=True,
    )
    while not stopping.wait(1.0):
        pass
    stack.stop()
    print("[stack] stopped.", flush=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] != "run":
        print("usage: python scripts/stack.py run", file=sys.stderr)
        sys.exit(2)
    sys.exit(run_forever())
