"""Fail when an NLU report falls below the quality bar.

Reads the ``intent_report.json`` that ``rasa test nlu --out DIR`` writes and prints macro-F1,
accuracy and the weakest intents. Exit 1 when macro-F1 is under ``--min-macro-f1``.

    python3 scripts/nlu_gate.py var/results/nlu-blind --min-macro-f1 0.85
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

SUMMARY_KEYS = {"accuracy", "macro avg", "micro avg", "weighted avg"}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path, help="the --out folder of rasa test nlu")
    parser.add_argument("--min-macro-f1", type=float, default=0.0)
    parser.add_argument("--show", type=int, default=6, help="how many of the weakest intents to list")
    args = parser.parse_args(argv)

    path = args.results / "intent_report.json"
    if not path.exists():
        print(f"no report at {path}: did rasa test nlu run?", file=sys.stderr)
        return 2
    report = json.loads(path.read_text(encoding="utf-8"))
    intents = {k: v for k, v in report.items() if k not in SUMMARY_KEYS and isinstance(v, dict)}
    macro = report["macro avg"]["f1-score"]
    accuracy = report.get("accuracy", report.get("micro avg", {}).get("f1-score", 0.0))
    support = sum(v["support"] for v in intents.values())
    print(f"{path.parent}: {support} examples, {len(intents)} intents, "
          f"intent macro-F1 {macro:.3f}, accuracy {accuracy:.3f}")
    weakest = sorted(intents.items(), key=lambda kv: kv[1]["f1-score"])[: args.show]
    print("weakest: " + ", ".join(f"{k} {v['f1-score']:.2f}" for k, v in weakest))
    if macro < args.min_macro_f1:
        print(f"FAIL: intent macro-F1 {macro:.3f} is under {args.min_macro_f1}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
