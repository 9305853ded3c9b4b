"""Sentence embeddings, through sentence-transformers.

One `Encoder` per model directory and process (`get_encoder`): it loads the model with
``SentenceTransformer(path, device="cpu")`` once and serves both sides, the documents in
batches at build time and each query at search time. Any sentence-transformers model
directory works (whatever its architecture, pooling, dense or normalisation modules); the
embeddings are L2-normalised so the dot product is the cosine.

Importing sentence-transformers (torch, transformers, scikit-learn) and loading the model take
~9 s on the 2-core machine (8 s of it the imports; the numpy forward pass this replaced started
in ~1 s), and the process's resident memory grows from ~270 MB to ~600–700 MB. `build_index`
therefore starts loading the model in a background thread (`Encoder.start`) while the index is
read, and the `Searcher` waits for it, so a built service answers at full speed from its first
query. Query encoding costs ~1.3x the numpy pass's CPU; torch runs on one thread by default
(``KNOWLEDGE_TORCH_THREADS``: two threads stall when other jobs share the cores). Figures and
method: docs/search.md, ``make bench-search``.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from pathlib import Path

import numpy as np

from knowledge import config

log = logging.getLogger(__name__)

#: Files of a model directory that do not change what it computes (left out of `model_id`).
_NOT_THE_MODEL = frozenset({"README.md", ".gitattributes", "FINETUNE_COMPLETE.json"})
_WHOLE_FILE_LIMIT = 1 << 20  # bigger files (weights) are identified by size + first and last MiB


def model_id(path: Path) -> str:
    """Identity of a model directory for cache keys.

    Covers the resolved path and every file of the directory (weights in any format, the
    modules, pooling, tokenizer and model configurations), so replacing the weights or
    changing, say, the pooling in place gives a new id. Big files count by size + first and
    last MiB, which tells models apart and is fast.
    """
    path = Path(path)
    digest = hashlib.sha256(b"model-id-v2\x1e" + str(path.resolve()).encode())
    if path.is_dir():
        files = sorted(
            p
            for p in path.rglob("*")
            if p.is_file()
            and p.name not in _NOT_THE_MODEL
            and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        for item in files:
            size = item.stat().st_size
            digest.update(f"\x1e{item.relative_to(path).as_posix()}\x1f{size}\x1f".encode())
            with item.open("rb") as fh:
                digest.update(fh.read(_WHOLE_FILE_LIMIT))
                if size > _WHOLE_FILE_LIMIT:
                    fh.seek(max(_WHOLE_FILE_LIMIT, size - _WHOLE_FILE_LIMIT))
                    digest.update(fh.read())
    return digest.hexdigest()[:16]


class Encoder:
    """A sentence-transformers model, loaded once, encoding queries one at a time and documents in batches.

    Torch runs on ``KNOWLEDGE_TORCH_THREADS`` intra-op threads (1 by default): a query is a few dozen
    tokens, where a second thread gains little (measured in docs/search.md) and would spin on the
    core the gateway and the action server share. The setting is process-wide in torch.
    """

    batch_calls = 0  # how many times `encode_many` ran in this process (tests check cache reuse)

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._model = None
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.load_seconds: float | None = None

    # ---- loading ----

    def start(self) -> Encoder:
        """Begin loading in a background thread (idempotent); `encode` waits for it."""
        with self._lock:
            if self._model is None and self._thread is None:
                self._thread = threading.Thread(
                    target=self._load_quietly, name="knowledge-encoder", daemon=True
                )
                self._thread.start()
        return self

    def _load_quietly(self) -> None:
        try:
            self.load()
        except BaseException as exc:  # noqa: BLE001 - re-raised by the first caller of `load`
            self._error = exc
            log.exception("could not load the embedding model %s", self.path)

    def load(self):  # noqa: ANN201 - SentenceTransformer; the type would force the slow import
        """The model, loaded now if no one loaded it yet (thread-safe, loads once)."""
        if self._model is not None:
            return self._model
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
            if self._model is not None:
                return self._model
            if self._error is not None:
                raise RuntimeError(f"embedding model {self.path} failed to load") from self._error
        with self._lock:
            if self._model is None:
                started = time.perf_counter()
                config.ensure_offline()
                import torch
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()  # no "Loading weights" bar in the service log
                torch.set_num_threads(config.torch_threads())
                model = SentenceTransformer(str(self.path), device="cpu")
                model.eval()
                self.load_seconds = time.perf_counter() - started
                log.info("embedding model %s loaded in %.2f s", self.path, self.load_seconds)
                self._model = model
        return self._model

    @property
    def ready(self) -> bool:
        return self._model is not None

    @property
    def dimension(self) -> int:
        model = self.load()
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        dim = get_dim()
        return int(dim) if dim else int(self.encode("x").shape[-1])

    # ---- encoding ----

    def encode(self, text: str) -> np.ndarray:
        """One query → a unit vector (float32)."""
        vec = self.load().encode(
            text, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vec, dtype=np.float32)

    def encode_many(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Documents → unit vectors, one row each (float32)."""
        Encoder.batch_calls += 1
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        emb = self.load().encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(emb, dtype=np.float32)


_encoders: dict[str, Encoder] = {}
_encoders_lock = threading.Lock()


def get_encoder(path: Path) -> Encoder:
    """The process-wide encoder of a model directory (one model in memory per directory)."""
    key = str(Path(path).resolve())
    with _encoders_lock:
        encoder = _encoders.get(key)
        if encoder is None:
            encoder = _encoders[key] = Encoder(Path(path))
        return encoder
