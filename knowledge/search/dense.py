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

Quantisation (``KNOWLEDGE_EMBED_QUANTIZE``: ``int8``, the default, or ``none``): with ``int8``,
`Encoder.load` applies torch's dynamic int8 quantisation to every ``nn.Linear`` of the model right
after loading (`quantize_int8`: int8 weights with a scale per output channel, activations quantised
on the fly), which works for any sentence-transformers model whatever its architecture. It is the
one place the model is changed. Documents and queries go through the same encoder (the int8 one
encodes documents one at a time, like queries: see `Encoder.encode_many`), and the mode is part of
the embedding and index cache keys (`encoder_id`), so switching it re-encodes the documents instead
of comparing float documents with int8 queries; ``none`` keeps the float model and the cache keys it
always had. Fine-tuning (`knowledge.search.finetune`) loads its own float model and trains it; only
inference is quantised. int8 roughly halves the encoder's CPU per query, its query vectors are at
cosine 0.96-0.99 to the float ones, and the search figures move by a query or two either way; it is
the default because it is what keeps query p95 under 15 ms. Figures: docs/search.md.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import warnings
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


def _quantize_mode(quantize: str | None) -> str:
    """``quantize`` checked, or the configured ``KNOWLEDGE_EMBED_QUANTIZE`` when None."""
    if quantize is None:
        return config.embed_quantize()
    if quantize not in config.EMBED_QUANTIZE_MODES:
        raise ValueError(f"quantize={quantize!r}: use one of {', '.join(config.EMBED_QUANTIZE_MODES)}")
    return quantize


#: What ``int8`` means, in the cache keys: a change of the scheme must re-encode the documents.
INT8_SCHEME = "int8-dynamic-linear-per-channel-one-by-one-v1"


def encoder_id(path: Path, quantize: str | None = None) -> str:
    """Identity of what an `Encoder` computes, for the embedding and index cache keys.

    The model directory's `model_id` plus the quantisation mode (``KNOWLEDGE_EMBED_QUANTIZE`` when
    ``quantize`` is None). The float model keeps the bare `model_id`, so caches built before
    quantisation existed stay valid for ``none``; ``int8`` gets its own key.
    """
    mode = _quantize_mode(quantize)
    base = model_id(path)
    return base if mode == "none" else f"{base}+{INT8_SCHEME}"


def quantize_int8(model):  # noqa: ANN001, ANN201 - a torch module; typing it would force the slow import
    """Dynamic int8 quantisation of every ``nn.Linear`` of ``model``, in place; returns the model.

    Weights are stored as int8 with one scale per output channel, activations are quantised per
    call, so any sentence-transformers model can be quantised without calibration data. Per-channel
    weights, not torch's per-tensor default: on the fine-tuned model per-tensor gave query vectors
    at cosine 0.92-0.95 to the float ones, per-channel 0.97-0.99, and was no slower. torch marks the
    ``torch.ao.quantization`` API as deprecated (it still works in the installed torch); only those
    deprecation notices are silenced, for this call only.
    """
    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"torch\.ao\.quantization is deprecated")
        warnings.filterwarnings("ignore", message=r"torch\.quantize_per_(tensor|channel), .* are deprecated")
        return quantize_dynamic(
            model, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8, inplace=True
        )


class Encoder:
    """A sentence-transformers model, loaded once, encoding queries one at a time and documents in batches.

    Torch runs on ``KNOWLEDGE_TORCH_THREADS`` intra-op threads (1 by default): a query is a few dozen
    tokens, where a second thread gains little (measured in docs/search.md) and would spin on the
    core the gateway and the action server share. The setting is process-wide in torch.
    ``quantize`` (default: ``KNOWLEDGE_EMBED_QUANTIZE``, read when the encoder is made) is ``int8``
    or ``none``; see the module docstring.
    """

    batch_calls = 0  # how many times `encode_many` ran in this process (tests check cache reuse)

    def __init__(self, path: Path, quantize: str | None = None) -> None:
        self.path = Path(path)
        self.quantize = _quantize_mode(quantize)
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
                if self.quantize == "int8":
                    model = quantize_int8(model)
                self.load_seconds = time.perf_counter() - started
                log.info(
                    "embedding model %s loaded in %.2f s (quantisation: %s)",
                    self.path,
                    self.load_seconds,
                    self.quantize,
                )
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
        """Documents → unit vectors, one row each (float32).

        The int8 model encodes them one at a time, as it encodes queries: dynamic quantisation
        scales each layer's activations by the largest value in the whole batch (padding included),
        so a text's vector would depend on the texts batched with it.
        """
        Encoder.batch_calls += 1
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self.quantize == "int8":
            batch_size = 1
        emb = self.load().encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(emb, dtype=np.float32)


_encoders: dict[tuple[str, str], Encoder] = {}
_encoders_lock = threading.Lock()


def get_encoder(path: Path, quantize: str | None = None) -> Encoder:
    """The process-wide encoder of a model directory and quantisation mode (one model in memory each).

    ``quantize`` None means ``KNOWLEDGE_EMBED_QUANTIZE``.
    """
    key = (str(Path(path).resolve()), _quantize_mode(quantize))
    with _encoders_lock:
        encoder = _encoders.get(key)
        if encoder is None:
            encoder = _encoders[key] = Encoder(Path(path), quantize=key[1])
        return encoder
