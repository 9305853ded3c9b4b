"""Issue #13's figures measured on what people actually get: every message of the realistic set
(knowledge/eval/real/messages.yml) goes through the real stack's ``POST /api/chat`` (NLU, the long
message router, rules, actions, ``knowledge.resolve``), each in a fresh conversation, and the reply
is read back into an outcome (the guide of a one thing, a choice, a complaint recorded, a
suggestion thanked, a policy question, the 办不成事 form or offer, "not sure").

    .venv/app/bin/python scripts/eval_real_e2e.py [--split test|dev|all] [--gateway URL] [--json PATH]

Without ``--gateway`` it starts a private stack on free ports (``scripts/stack.py``, as the tests
do; about a minute) and stops it afterwards. ``make eval-real`` runs it after the resolve-level
figures. The figures (a)–(d) are computed by ``knowledge.eval.real_runner.figures``, the same code
as the resolve-level evaluation.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from knowledge.eval.real import load_messages  # noqa: E402
from knowledge.eval.real_runner import Outcome, figures, format_figures  # noqa: E402
from knowledge.store import load_catalogue  # noqa: E402

FORM_OPENED = "我帮您把没办成的事登记下来"  # utter_ask_case_matter
CHOOSE_RE = re.compile(r'/choose_thing\{"thing_code":"([^"]+)"\}')
THING_RE = re.compile(r"您要办的是：(.+)")
ALSO_RE = re.compile(r"您还说到了【(.+?)】")
# The honest "not a one thing" replies (actions/templates/not_a_thing.j2, actions/complaint.py).
KIND_MARKS = (
    ("consumer", ("12315",)),
    ("complaint", ("您反映的情况我明白了", "让您受委屈了")),
    ("suggestion", ("谢谢您的建议",)),
    ("question", ("政策方面的事",)),
    ("bancheng", ("没有办成",)),
    ("chitchat", ("我是“一件事”导办助手",)),
)


def outcome_of(replies: list[dict[str, Any]], codes_by_title: dict[str, str]) -> Outcome:
    text = "\n".join(str(r.get("text") or "") for r in replies)
    payloads = [str(b.get("payload") or "") for r in replies for b in r.get("buttons") or []]
    if FORM_OPENED in text:
        return Outcome("bancheng", (), "form opened")
    if m := THING_RE.search(text):
        first = codes_by_title.get(m.group(1).strip())
        if first:
            also = [codes_by_title.get(t) for t in ALSO_RE.findall(text)]
            themes = tuple(c for c in (first, *also) if c)
            return Outcome("two_things" if len(themes) > 1 else "sure", themes, "guide")
    chosen = tuple(dict.fromkeys(c for p in payloads for c in CHOOSE_RE.findall(p)))
    if chosen:
        return Outcome("choose" if len(chosen) > 1 else "guess", chosen, "buttons")
    for kind, marks in KIND_MARKS:
        if any(mark in text for mark in marks):
            return Outcome(kind, (), "reply text")
    return Outcome("none", (), text[:60])


@contextmanager
def private_stack() -> Iterator[str]:
    spec = importlib.util.spec_from_file_location("stack", ROOT / "scripts" / "stack.py")
    assert spec and spec.loader
    stack = importlib.util.module_from_spec(spec)
    sys.modules["stack"] = stack
    spec.loader.exec_module(stack)
    with tempfile.TemporaryDirectory(prefix="eval-real-") as work:
        config = stack.StackConfig.on_free_ports(Path(work))
        config.rasa_standby = False
        # Staff at work, a long offer threshold: a handoff reply is a ticket, whatever the hour.
        config.extra_env.update({"SERVICE_HOURS": "00:00-23:59:59", "SERVICE_WEEKDAYS": "mon,tue,wed,thu,fri,sat,sun",
                                 "APPOINTMENT_OFFER_WAIT_MINUTES": "100000"})
        s = stack.Stack(config)
        s.start()
        try:
            yield config.gateway_url
        finally:
            s.stop()


def run(gateway: str, split: str) -> tuple[list[Any], list[Outcome]]:
    messages = load_messages(split=split)
    codes_by_title = {t.title: t.code for t in load_catalogue().values()}
    outcomes: list[Outcome] = []
    started = time.monotonic()
    with httpx.Client(base_url=gateway, timeout=120, trust_env=False) as http:
        for n, m in enumerate(messages):
            sender = f"eval-real-{int(started)}-{n}"
            response = http.post("/api/chat", json={"sender": sender, "message": m.full_text[:4000]})
            replies = response.json() if response.status_code == 200 else [{"text": response.text}]
            outcomes.append(outcome_of(replies, codes_by_title))
    print(f"{len(messages)} messages through /api/chat in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return messages, outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="test", choices=("dev", "test", "all"))
    parser.add_argument("--gateway", help="an already running gateway, e.g. http://127.0.0.1:8080")
    parser.add_argument("--json", type=Path, help="also write the figures and every outcome here")
    args = parser.parse_args(argv)
    if args.gateway:
        messages, outcomes = run(args.gateway, args.split)
    else:
        with private_stack() as url:
            messages, outcomes = run(url, args.split)
    result = figures(messages, outcomes)
    print(format_figures(f"end to end through /api/chat, {args.split} split", result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        rows = [{"id": m.id, "label": m.label, "outcome": o.outcome, "themes": list(o.themes), "why": o.reason}
                for m, o in zip(messages, outcomes, strict=True)]
        args.json.write_text(json.dumps({"figures": result.__dict__, "outcomes": rows}, ensure_ascii=False, indent=1,
                                        default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
