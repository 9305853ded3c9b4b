"""Sentence embeddings.

Documents are encoded at build time with sentence-transformers (batched, once,
cached by the index). Queries are encoded by `NumpyEncoder`, a small numpy
re-implementation of the same BERT forward pass + mean pooling + L2
normalisation, reading the same weights (``model.safetensors``) and tokenizer
(``tokenizer.json``). Importing sentence-transformers costs ~6 s on this
machine, torch alone ~1.5 s; the numpy encoder loads in well under a second,
so the service starts fast. ``tests/knowledge/test_search.py`` checks that the
two encoders agree.

Only BERT models with mean pooling and normalisation are supported by the numpy
encoder (all-MiniLM-L6-v2 and models fine-tuned from it).
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import numpy as np

from knowledge import config


def model_id(path: Path) -> str:
    """Identity of a model directory for cache keys: path + weights file size and content digest."""
    weights = path / "model.safetensors"
    digest = hashlib.sha256(str(path.resolve()).encode())
    if weights.exists():
        stat = weights.stat()
        digest.update(f"{stat.st_size}".encode())
        with weights.open("rb") as fh:  # head + tail is enough to tell models apart, and fast
            digest.update(fh.read(1 << 20))
            fh.seek(max(0, stat.st_size - (1 << 20)))
            digest.update(fh.read())
    return digest.hexdigest()[:16]


def _check_supported(path: Path) -> None:
    pooling = path / "1_Pooling" / "config.json"
    if pooling.exists():
        cfg = json.loads(pooling.read_text())
        mean = cfg.get("pooling_mode") == "mean" or (  # sentence-transformers >= 6 / older configs
            cfg.get("pooling_mode_mean_tokens", False) and not cfg.get("pooling_mode_cls_token", False)
        )
        if not mean:
            raise ValueError(f"{path}: only mean pooling is supported by the numpy encoder")
    bert = json.loads((path / "config.json").read_text())
    if bert.get("model_type") != "bert" or bert.get("hidden_act") != "gelu":
        raise ValueError(f"{path}: only BERT models with gelu are supported by the numpy encoder")


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


class NumpyEncoder:
    """BERT + mean pooling + normalisation in numpy, for one query at a time."""

    def __init__(self, path: Path, max_length: int = 256) -> None:
        from safetensors.numpy import load_file
        from scipy.special import erf
        from tokenizers import Tokenizer

        _check_supported(path)
        self.path = path
        self._erf = erf
        cfg = json.loads((path / "config.json").read_text())
        self.heads = int(cfg["num_attention_heads"])
        self.layers = int(cfg["num_hidden_layers"])
        self.eps = float(cfg.get("layer_norm_eps", 1e-12))
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        # sentence-transformers truncates at max_seq_length (older configs) or at the tokenizer's own
        # truncation length (newer saves); use the same limit so both encoders agree.
        sbert = path / "sentence_bert_config.json"
        sbert_cfg = json.loads(sbert.read_text()) if sbert.exists() else {}
        if "max_seq_length" in sbert_cfg:
            max_length = int(sbert_cfg["max_seq_length"])
        elif self.tokenizer.truncation:
            max_length = int(self.tokenizer.truncation["max_length"])
        self.max_length = min(max_length, int(cfg.get("max_position_embeddings", 512)))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_length)
        raw = load_file(str(path / "model.safetensors"))
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in raw else ""
        self.w = {k[len(prefix) :]: v.astype(np.float32) for k, v in raw.items() if k.startswith(prefix)}
        # Pre-transpose the linear layers once: x @ W.T  ->  x @ Wt
        for key in list(self.w):
            if key.endswith(".weight") and self.w[key].ndim == 2 and key.startswith("encoder."):
                self.w[key] = np.ascontiguousarray(self.w[key].T)
        self.dim = self.w["embeddings.word_embeddings.weight"].shape[1]
        self._lock = threading.Lock()

    def _gelu(self, x: np.ndarray) -> np.ndarray:
        return 0.5 * x * (1.0 + self._erf(x * np.float32(1.0 / np.sqrt(2.0))))

    def encode(self, text: str) -> np.ndarray:
        ids = np.asarray(self.tokenizer.encode(text).ids, dtype=np.int64)
        w = self.w
        n = len(ids)
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:n]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        h = self.heads
        d = self.dim // h
        scale = np.float32(1.0 / np.sqrt(d))
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            q = x @ w[p + "attention.self.query.weight"] + w[p + "attention.self.query.bias"]
            k = x @ w[p + "attention.self.key.weight"] + w[p + "attention.self.key.bias"]
            v = x @ w[p + "attention.self.value.weight"] + w[p + "attention.self.value.bias"]
            q = q.reshape(n, h, d).transpose(1, 0, 2)
            k = k.reshape(n, h, d).transpose(1, 2, 0)
            v = v.reshape(n, h, d).transpose(1, 0, 2)
            att = (q @ k) * scale
            att = np.exp(att - att.max(-1, keepdims=True))
            att /= att.sum(-1, keepdims=True)
            ctx = (att @ v).transpose(1, 0, 2).reshape(n, self.dim)
            a = ctx @ w[p + "attention.output.dense.weight"] + w[p + "attention.output.dense.bias"]
            x = _layer_norm(
                a + x,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
                self.eps,
            )
            m = self._gelu(x @ w[p + "intermediate.dense.weight"] + w[p + "intermediate.dense.bias"])
            m = m @ w[p + "output.dense.weight"] + w[p + "output.dense.bias"]
            x = _layer_norm(m + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], self.eps)
        pooled = x.mean(0)
        norm = float(np.linalg.norm(pooled))
        return (pooled / norm if norm > 0 else pooled).astype(np.float32)


class DocEncoder:
    """Batch encoding with sentence-transformers (build time only; slow to import)."""

    calls = 0  # how many times `encode` ran in this process (tests check cache reuse)

    def __init__(self, path: Path) -> None:
        self.path = path
        self._model = None

    def _load(self):  # noqa: ANN202 - SentenceTransformer type would force the import
        if self._model is None:
            config.ensure_offline()
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(self.path), device="cpu")
        return self._model

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        DocEncoder.calls += 1
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        model = self._load()
        emb = model.encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(emb, dtype=np.float32)
