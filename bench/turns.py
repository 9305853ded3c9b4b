"""Chat-turn benchmark: our assistant against the stock `rasa init` moodbot, in one run.

Sends N turns at concurrency C
  1. through the gateway (POST /api/chat),
  2. straight to our Rasa (REST channel),
  3. straight to the moodbot's Rasa (REST channel): the floor any Rasa assistant stands on,
and prints throughput and p50/p95/p99 latency, with ratios against the moodbot measured in
the same run. Starts its own private stack and moodbot on free ports; stops them at the end.

    .venv/app/bin/python bench/turns.py [--turns 200] [--concurrency 1,8] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("stack", ROOT / "scripts" / "stack.py")
assert spec and spec.loader
stack_mod = importlib.util.module_from_spec(spec)
sys.modules["stack"] = stack_mod
spec.loader.exec_module(stack_mod)

OUR_MESSAGES = [
    "你好",
    "我堂客生了个伢子，要上户口",
    "要带么子材料",
    "我爸明年退休，要办么子手续",
    "我想开个米粉店",
    "谢谢你",
]
MOOD_MESSAGES = ["hi", "I am sad", "yes", "great", "bye"]
RASA = ROOT / ".venv" / "rasa" / "bin" / "rasa"
MOODBOT_DIR = ROOT / "var" / "bench" / "moodbot"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


async def drive(url: str, messages: list[str], turns: int, concurrency: int, tag: str) -> dict:
    """Each worker is one conversation (its own sender) cycling through `messages`."""
    latencies: list[float] = []
    errors = 0
    counter = iter(range(turns))

    async def worker(worker_id: int, client: httpx.AsyncClient) -> None:
        nonlocal errors
        sender = f"bench-{tag}-{worker_id}-{time.monotonic_ns()}"
        i = 0
        for _ in counter:
            payload = {"sender": sender, "message": messages[i % len(messages)]}
            i += 1
            start = time.perf_counter()
            try:
                resp = await client.post(url, json=payload)
                ok = resp.status_code == 200 and isinstance(resp.json(), list)
            except httpx.HTTPError:
                ok = False
            latencies.append((time.perf_counter() - start) * 1000)
            errors += 0 if ok else 1

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(w, client) for w in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {
        "turns": len(latencies),
        "concurrency": concurrency,
        "errors": errors,
        "throughput": len(latencies) / elapsed,
        "p50": statistics.median(latencies),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
    }


def moodbot_model(retrain: bool) -> Path:
    models = sorted((MOODBOT_DIR / "models").glob("*.tar.gz")) if MOODBOT_DIR.exists() else []
    if models and not retrain:
        return models[-1]
    print("training the stock moodbot (rasa init) as the baseline…", flush=True)
    MOODBOT_DIR.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["rm", "-rf", str(MOODBOT_DIR)], check=True)
    MOODBOT_DIR.mkdir(parents=True)  # rasa init wants the folder to exist
    started = time.perf_counter()
    subprocess.run(
        [str(RASA), "init", "--no-prompt", "--init-dir", str(MOODBOT_DIR)],
        cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    print(f"  moodbot trained in {time.perf_counter() - started:.0f} s", flush=True)
    return sorted((MOODBOT_DIR / "models").glob("*.tar.gz"))[-1]


def start_moodbot(model: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = stack_mod.free_port()
    proc = subprocess.Popen(
        [str(RASA), "run", "-i", "127.0.0.1", "-p", str(port), "-m", str(model),
         "--enable-api", "--auth-token", "bench"],
        cwd=MOODBOT_DIR, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 240
    while stack_mod.rasa_ok(base, "bench") is not None:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the moodbot did not start; see {log}")
        time.sleep(0.5)
    return proc, base


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--concurrency", default="1,8")
    parser.add_argument("--retrain-baseline", action="store_true", help="train the moodbot even if cached")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]

    work = Path(tempfile.mkdtemp(prefix="bench-"))
    # Each benchmark conversation sends its turns back to back, far above a person's pace: lift the
    # gateway's per-conversation rate limit (docs/gateway.md) for the stack started here.
    os.environ.setdefault("CHAT_RATE_PER_CONVERSATION", "100000/minute")
    model = moodbot_model(args.retrain_baseline)
    mood, mood_url = start_moodbot(model, work / "moodbot.log")
    config = stack_mod.StackConfig.on_free_ports(work)
    config.rasa_standby = False  # a standby loading its model would take a core during the run
    stack = stack_mod.Stack(config)
    rows: list[dict] = []
    try:
        print("starting our stack on free ports…", flush=True)
        stack.start()
        targets = [
            ("moodbot (rasa init) REST", f"{mood_url}/webhooks/rest/webhook", MOOD_MESSAGES),
            ("our Rasa REST", f"{stack.config.rasa_url}/webhooks/rest/webhook", OUR_MESSAGES),
            ("our gateway /api/chat", f"{stack.config.gateway_url}/api/chat", OUR_MESSAGES),
        ]
        for _name, url, messages in targets:  # warm-up: first turns load lazy parts
            asyncio.run(drive(url, messages, 10, 1, "warm"))
        for c in levels:
            for name, url, messages in targets:
                result = asyncio.run(drive(url, messages, args.turns, c, f"c{c}"))
                result["target"] = name
                rows.append(result)
    finally:
        stack.stop()
        mood.terminate()
        mood.wait(timeout=30)

    print(f"\n{'target':28} {'C':>3} {'turns':>6} {'err':>4} {'msg/s':>7} {'p50 ms':>8} "
          f"{'p95 ms':>8} {'p99 ms':>8} {'p50 × moodbot':>14}")
    for row in rows:
        base = next(r for r in rows if r["concurrency"] == row["concurrency"] and r["target"].startswith("mood"))
        print(f"{row['target']:28} {row['concurrency']:>3} {row['turns']:>6} {row['errors']:>4} "
              f"{row['throughput']:>7.1f} {row['p50']:>8.1f} {row['p95']:>8.1f} {row['p99']:>8.1f} "
              f"{row['p50'] / base['p50']:>14.2f}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0 if all(r["errors"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
