"""Entities and parse time of one or more trained Rasa models, side by side (Rasa venv):

    .venv/rasa/bin/python bench/nlu_entities.py MODEL.tar.gz [MODEL2.tar.gz ...] [--json out.json]

For each model: precision / recall / F1 of the entities (after EntitySynonymMapper) against the
annotations of tests/nlu/blind.yml, per entity and in all; and the NLU parse time per message
(p50 / p95, in-process `Agent.parse_message`) over the blind set and over the realistic citizen
messages of knowledge/eval/real/messages.yml (long ones included). Spans found in the realistic
messages are counted per entity: masked text (****) must give none. Models are measured in
alternating rounds so that a busy machine weighs on both alike; ``load_s`` is `Agent.load` (the
first model also pays for imports). docs/spacy.md has the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)  # SpacyNLP's pipeline path in config.yml is relative to the repository

import numpy as np  # noqa: E402
import yaml  # noqa: E402

logging.disable(logging.WARNING)

from rasa.core.agent import Agent  # noqa: E402
from rasa.shared.nlu.training_data.loading import load_data  # noqa: E402

SKIP = {"fact_key", "fact_value", "appt_slot", "appt_code"}  # set by buttons only


def gold_examples(path: Path) -> list[tuple[str, set[tuple[str, str]]]]:
    """Each example's text and its annotated (entity, value), the value mapped by the training
    data's synonyms as EntitySynonymMapper maps what the extractors find."""
    synonyms = load_data(str(ROOT / "data" / "nlu")).entity_synonyms
    out = []
    for m in load_data(str(path)).intent_examples:
        gold = {
            (e["entity"], str(synonyms.get(str(e["value"]), e["value"])))
            for e in m.get("entities") or []
        }
        out.append((m.get("text"), {g for g in gold if g[0] not in SKIP}))
    return out


def real_texts() -> list[str]:
    doc = yaml.safe_load((ROOT / "knowledge" / "eval" / "real" / "messages.yml").read_text(encoding="utf-8"))
    items = doc.get("messages", doc) if isinstance(doc, dict) else doc
    return [(it.get("title", "") + "\n" + it["text"]).strip() if it.get("title") else it["text"] for it in items]


async def parse_all(agent: Agent, texts: list[str]) -> tuple[list[dict], list[float]]:
    results, times = [], []
    for t in texts:
        t0 = time.perf_counter()
        r = await agent.parse_message(t)
        times.append(time.perf_counter() - t0)
        results.append(r)
    return results, times


def score(results: list[dict], gold: list[set[tuple[str, str]]]) -> dict:
    tp, fp, fn = Counter(), Counter(), Counter()
    for r, g in zip(results, gold, strict=True):
        pred = {(e["entity"], str(e["value"])) for e in r.get("entities") or [] if e["entity"] not in SKIP}
        for ent, _ in pred & g:
            tp[ent] += 1
        for ent, _ in pred - g:
            fp[ent] += 1
        for ent, _ in g - pred:
            fn[ent] += 1

    def prf(t: int, p: int, n: int) -> dict:
        prec = t / (t + p) if t + p else 1.0
        rec = t / (t + n) if t + n else 1.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        return {"tp": t, "fp": p, "fn": n, "precision": round(prec, 4), "recall": round(rec, 4), "f1": round(f1, 4)}

    per = {e: prf(tp[e], fp[e], fn[e]) for e in sorted(set(tp) | set(fp) | set(fn))}
    return {"all": prf(sum(tp.values()), sum(fp.values()), sum(fn.values())), "per_entity": per}


def pct(samples: list[float]) -> dict:
    ms = np.asarray(samples) * 1000
    return {"n": len(ms), "p50_ms": round(float(np.percentile(ms, 50)), 2), "p95_ms": round(float(np.percentile(ms, 95)), 2)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="+")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--json")
    args = ap.parse_args()
    blind = gold_examples(ROOT / "tests" / "nlu" / "blind.yml")
    real = real_texts()
    out: dict[str, dict] = {m: {"blind_time": [], "real_time": []} for m in args.models}
    agents = {}
    for m in args.models:
        t0 = time.perf_counter()
        agents[m] = Agent.load(m)
        out[m]["load_s"] = round(time.perf_counter() - t0, 2)
    loop = asyncio.new_event_loop()
    spans: dict[str, set] = {}
    for r in range(args.rounds + 1):  # round 0 warms up and gives the results
        for m, agent in agents.items():
            res_b, tb = loop.run_until_complete(parse_all(agent, [t for t, _ in blind]))
            res_r, tr = loop.run_until_complete(parse_all(agent, real))
            if r == 0:
                out[m]["blind_entities"] = score(res_b, [g for _, g in blind])
                out[m]["real_spans"] = dict(
                    Counter(e["entity"] for x in res_r for e in x.get("entities") or [] if e["entity"] not in SKIP)
                )
                out[m]["real_spans_in_masks"] = sum(
                    1 for x in res_r for e in x.get("entities") or [] if "*" in str(x["text"][e["start"] : e["end"]])
                )
                spans[m] = {
                    (i, e["entity"], e["start"], e["end"], str(e["value"]))
                    for i, x in enumerate(res_b + res_r)
                    for e in x.get("entities") or []
                    if e["entity"] not in SKIP
                }
            else:
                out[m]["blind_time"] += tb
                out[m]["real_time"] += tr
    first = args.models[0]
    for m in args.models:
        # every span (message, entity, offsets, value) on both sets, against the first model's
        out[m]["spans_differing_from_first"] = len(spans[m] ^ spans[first])
        out[m]["blind_time"] = pct(out[m]["blind_time"])
        out[m]["real_time"] = pct(out[m]["real_time"])
    text = json.dumps(out, ensure_ascii=False, indent=1)
    print(text)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
