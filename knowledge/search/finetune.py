"""Optional set-up-time fine-tuning of the embedding model on the catalogue's own texts.

Enabled by ``KNOWLEDGE_FINETUNE=1``; run by ``python -m knowledge build-index``
(never inside the service: training takes minutes). Steps:

1. extend the tokenizer with Chinese characters it lacks (all-MiniLM-L6-v2 knows only 244
   CJK characters): the ``COMMON_CHARS`` most frequent characters of jieba's dictionary plus
   every character of the catalogue texts; ``resize_token_embeddings`` adds their rows;
2. train with MultipleNegativesRankingLoss on (text → its theme's title) pairs, where text is
   each phrasing, sub-matter name, FAQ question and summary (the eval queries are never used);
3. save under ``KNOWLEDGE_CACHE_DIR/models/ft-<hash>/``, the hash covering the pairs, the base
   model and the hyper-parameters, so it is trained once per catalogue state.

Hyper-parameters (env): KNOWLEDGE_FINETUNE_EPOCHS (default 5), KNOWLEDGE_FINETUNE_LR (3e-4),
KNOWLEDGE_FINETUNE_BATCH (32).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from pathlib import Path

from knowledge import config
from knowledge.models import Theme

log = logging.getLogger(__name__)

COMMON_CHARS = 3500
MAX_SEQ_LENGTH = 48
TRAIN_FIELDS = ("phrasing", "sub_matter", "faq", "summary")
MARKER = "FINETUNE_COMPLETE.json"


def hyper_parameters() -> dict[str, float | int]:
    return {
        "epochs": int(os.environ.get("KNOWLEDGE_FINETUNE_EPOCHS", "5")),
        "lr": float(os.environ.get("KNOWLEDGE_FINETUNE_LR", "3e-4")),
        "batch": int(os.environ.get("KNOWLEDGE_FINETUNE_BATCH", "32")),
        "max_seq_length": MAX_SEQ_LENGTH,
        "common_chars": COMMON_CHARS,
        "seed": 0,
    }


def training_pairs(themes: dict[str, Theme]) -> list[tuple[str, str]]:
    from knowledge.search.index import dense_text, theme_docs

    pairs = []
    for code in sorted(themes):
        title = dense_text(themes[code].title)
        for doc in theme_docs(themes[code]):
            if doc.field in TRAIN_FIELDS:
                pairs.append((dense_text(doc.text), title))
    return pairs


def common_chars(n: int = COMMON_CHARS) -> list[str]:
    """The n most frequent CJK characters of jieba's bundled dictionary (by summed word frequency)."""
    import jieba

    counts: dict[str, int] = {}
    dict_path = Path(jieba.__file__).parent / "dict.txt"
    with dict_path.open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) < 2:
                continue
            freq = int(parts[1])
            for ch in parts[0]:
                if "\u4e00" <= ch <= "\u9fff":
                    counts[ch] = counts.get(ch, 0) + freq
    return sorted(counts, key=lambda c: (-counts[c], c))[:n]


def cached_model_path(themes: dict[str, Theme], base: Path, cache: Path) -> Path:
    from knowledge.search.dense import model_id

    digest = hashlib.sha256(
        json.dumps([training_pairs(themes), model_id(base), hyper_parameters()], ensure_ascii=False).encode()
    ).hexdigest()[:16]
    return cache / "models" / f"ft-{digest}"


def is_complete(path: Path) -> bool:
    return (path / MARKER).exists() and (path / "model.safetensors").exists()


def train(themes: dict[str, Theme], base: Path, out: Path) -> Path:
    """Fine-tune ``base`` and save it at ``out`` (atomically: a temp folder renamed at the end)."""
    config.ensure_offline()
    import random

    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    hp = hyper_parameters()
    pairs = training_pairs(themes)
    started = time.perf_counter()
    torch.manual_seed(int(hp["seed"]))
    rng = random.Random(int(hp["seed"]))
    model = SentenceTransformer(str(base), device="cpu")
    model.max_seq_length = int(hp["max_seq_length"])
    tokenizer = model.tokenizer
    vocab = tokenizer.get_vocab()
    wanted = list(
        dict.fromkeys(
            common_chars(int(hp["common_chars"]))
            + sorted({ch for a, b in pairs for ch in a + b if "\u3400" <= ch <= "\u9fff"})
        )
    )
    new_chars = [ch for ch in wanted if ch not in vocab]
    added = tokenizer.add_tokens(new_chars)
    model[0].auto_model.resize_token_embeddings(len(tokenizer))
    log.info("fine-tuning: %d pairs, %d characters added to the vocabulary", len(pairs), added)

    # A plain loop (the HF Trainer would need `accelerate`): in-batch negatives, so a batch
    # never holds two pairs of the same theme (their titles would be false negatives).
    loss_fn = MultipleNegativesRankingLoss(model)
    batch = int(hp["batch"])
    epochs = int(hp["epochs"])
    steps_per_epoch = max(1, len(pairs) // batch + 1)
    total = steps_per_epoch * epochs
    warmup = max(1, total // 10)
    optimizer = torch.optim.AdamW(model.parameters(), lr=float(hp["lr"]), weight_decay=0.01)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (total - step) / max(1, total - warmup)))
    )
    model.train()
    step = 0
    for epoch in range(epochs):
        order = pairs[:]
        rng.shuffle(order)
        batches: list[list[tuple[str, str]]] = []
        for pair in order:  # first batch without this title, else a new one
            for b in batches:
                if len(b) < batch and all(pair[1] != other[1] for other in b):
                    b.append(pair)
                    break
            else:
                batches.append([pair])
        running = 0.0
        for b in batches:
            if len(b) < 2:
                continue
            features = [model.preprocess([a for a, _ in b]), model.preprocess([t for _, t in b])]
            loss = loss_fn(features, torch.empty(0))
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            step += 1
            running += float(loss.detach())
        log.info(
            "epoch %d/%d: mean loss %.3f (%.0f s)",
            epoch + 1,
            epochs,
            running / max(1, len(batches)),
            time.perf_counter() - started,
        )
    model.eval()
    tmp = out.parent / (out.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    model.save(str(tmp))
    (tmp / MARKER).write_text(
        json.dumps(
            {
                "pairs": len(pairs),
                "added_chars": added,
                "seconds": round(time.perf_counter() - started, 1),
                "hyper_parameters": hp,
                "base": str(base),
            },
            indent=1,
        )
    )
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
    log.info("fine-tuned model saved to %s in %.0f s", out, time.perf_counter() - started)
    return out
