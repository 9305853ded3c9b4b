"""Building, caching and querying the search index.

Documents: for every theme, its title, each citizen phrasing, each sub-matter
name, each FAQ question, its summary, and one "all" document (title +
phrasings + sub-matters joined) that lets BM25 see a theme's whole vocabulary.

Cache (``KNOWLEDGE_CACHE_DIR``; files are written atomically):
- ``emb-<hash>.npy``: document embeddings, keyed by the document texts + encoder id (the model
  id and the quantisation mode, `knowledge.search.dense.encoder_id`);
- ``index-<hash>.pkl``: the whole index (documents, BM25 matrix, embeddings), keyed by the
  documents, the tokenizer (incl. the lexicon) and the encoder id;
- ``calib-<hash>.json``: the calibration fitted on the dev split, keyed by the index, the
  fusion settings and the dev files' content;
- ``models/ft-<hash>/``: the optional fine-tuned model (see `knowledge.search.finetune`).
A query costs one tokenisation, one sparse and one dense matrix-vector product, and one
encoder forward pass (sentence-transformers, see `knowledge.search.dense`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from knowledge import config
from knowledge.models import Theme
from knowledge.search import calibration as calib
from knowledge.search.colloquial import Colloquial
from knowledge.search.colloquial import load as load_colloquial
from knowledge.search.dense import Encoder, encoder_id, get_encoder
from knowledge.search.fusion import aggregate, fuse
from knowledge.search.lexical import LexicalIndex
from knowledge.search.text import Tokenizer, normalise, strip_boilerplate

log = logging.getLogger(__name__)

INDEX_VERSION = "idx-v1"
#: How queries are encoded; part of the calibration key (the calibration sees query cosines).
QUERY_ENCODER = "sentence-transformers"

#: Field weights per ranker (0 = the ranker ignores that field). Tuned on the dev split.
LEXICAL_FIELDS: dict[str, float] = {
    "title": 1.0,
    "phrasing": 1.0,
    "sub_matter": 0.8,
    "faq": 0.7,
    "summary": 0.8,
    "all": 1.0,
}
DENSE_FIELDS: dict[str, float] = {
    "title": 1.0,
    "phrasing": 1.0,
    "sub_matter": 0.9,
    "faq": 0.9,
    "summary": 0.9,
    "all": 0.0,
}


@dataclass(frozen=True)
class Doc:
    code: str
    field: str
    text: str


def theme_docs(theme: Theme) -> list[Doc]:
    docs = [Doc(theme.code, "title", theme.title)]
    docs += [Doc(theme.code, "phrasing", p) for p in theme.phrasings if p.strip()]
    docs += [Doc(theme.code, "sub_matter", s.name) for s in theme.sub_matters if s.name.strip()]
    docs += [Doc(theme.code, "faq", f.question) for f in theme.faq if f.question.strip()]
    if theme.summary and theme.summary.strip():
        docs.append(Doc(theme.code, "summary", theme.summary))
    joined = " ".join([theme.title, *theme.phrasings, *(s.name for s in theme.sub_matters)])
    docs.append(Doc(theme.code, "all", joined))
    seen: set[tuple[str, str]] = set()
    unique = []
    for d in docs:  # the same text twice in one field adds nothing
        if (d.field, d.text) not in seen:
            seen.add((d.field, d.text))
            unique.append(d)
    return unique


def dense_text(text: str) -> str:
    return strip_boilerplate(normalise(text)).strip() or normalise(text)


def _digest(*parts: object) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(json.dumps(part, ensure_ascii=False, sort_keys=True, default=str).encode())
        h.update(b"\x1e")
    return h.hexdigest()[:20]


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass
class SearchIndex:
    key: str
    codes: list[str]
    titles: list[str]
    docs: list[Doc]
    starts: np.ndarray  # first document of each theme
    lex_weight: np.ndarray
    dense_weight: np.ndarray
    lexical: LexicalIndex
    tokenizer_fingerprint: str
    embeddings: np.ndarray | None = None
    model_path: str | None = None
    model_key: str | None = None  # `encoder_id`: the model and the quantisation mode
    quantize: str = "none"  # KNOWLEDGE_EMBED_QUANTIZE the embeddings were made with (queries must match)
    built_at: float = field(default_factory=time.time)


def build_docs(themes: dict[str, Theme]) -> tuple[list[str], list[str], list[Doc], np.ndarray]:
    codes = sorted(themes)
    docs: list[Doc] = []
    starts = []
    for code in codes:
        starts.append(len(docs))
        docs.extend(theme_docs(themes[code]))
    return codes, [themes[c].title for c in codes], docs, np.asarray(starts, dtype=np.int64)


def load_or_encode(texts: list[str], model: Path, cache: Path, quantize: str | None = None) -> np.ndarray:
    """Document embeddings, from the cache when the texts, the model and its quantisation are unchanged.

    ``quantize`` None means ``KNOWLEDGE_EMBED_QUANTIZE``.
    """
    path = cache / f"emb-{_digest('emb-v1', texts, encoder_id(model, quantize))}.npy"
    if path.exists():
        try:
            return np.load(path)
        except (OSError, ValueError):
            log.warning("unreadable embedding cache %s: re-encoding", path)
    emb = get_encoder(model, quantize).encode_many(texts)
    buf = _NpyBuffer()
    np.save(buf, emb)
    _atomic_write(path, buf.getvalue())
    return emb


class _NpyBuffer:
    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def getvalue(self) -> bytes:
        return b"".join(self._parts)


def resolve_model(themes: dict[str, Theme], cache: Path, train: bool) -> Path:
    """The model to embed with: the fine-tuned one when enabled (trained only if ``train``)."""
    base = config.model_path()
    if not config.finetune_enabled():
        return base
    from knowledge.search import finetune

    path = finetune.cached_model_path(themes, base, cache)
    if finetune.is_complete(path):
        return path
    if train:
        return finetune.train(themes, base, path)
    log.warning(
        "KNOWLEDGE_FINETUNE=1 but no fine-tuned model is cached; run `python -m knowledge "
        "build-index`. Using the base model meanwhile."
    )
    return base


def build_index(
    themes: dict[str, Theme],
    *,
    cache: Path | None = None,
    tokenizer: Tokenizer | None = None,
    dense: bool | None = None,
    train: bool = False,
) -> SearchIndex:
    """Load the index from the cache, or build and store it."""
    cache = cache or config.cache_dir()
    tokenizer = tokenizer or Tokenizer()
    dense = config.dense_enabled() if dense is None else dense
    codes, titles, docs, starts = build_docs(themes)
    model = resolve_model(themes, cache, train) if dense else None
    # Read once: documents here and queries later (`Searcher`) use the same mode.
    quantize = config.embed_quantize() if model is not None else "none"
    model_key = encoder_id(model, quantize) if model is not None else None
    if model is not None:
        get_encoder(model, quantize).start()  # torch + sentence-transformers load while the index loads
    key = _digest(
        INDEX_VERSION,
        [(d.code, d.field, d.text) for d in docs],
        tokenizer.fingerprint,
        LEXICAL_FIELDS,
        DENSE_FIELDS,
        model_key,
    )
    path = cache / f"index-{key}.pkl"
    if path.exists():
        try:
            with path.open("rb") as fh:
                index = pickle.load(fh)
            if isinstance(index, SearchIndex) and index.key == key:
                return index
        except Exception as exc:  # noqa: BLE001 - a broken cache file is rebuilt
            log.warning("unreadable index cache %s (%s): rebuilding", path, exc)

    lexical = LexicalIndex(tokenizer.tokenize_many(d.text for d in docs))
    embeddings = None
    dense_w = np.asarray([DENSE_FIELDS.get(d.field, 0.0) for d in docs], dtype=np.float32)
    if model is not None:
        # Only documents the dense ranker looks at are encoded; the others stay zero.
        wanted = np.flatnonzero(dense_w > 0)
        encoded = load_or_encode([dense_text(docs[i].text) for i in wanted], model, cache, quantize)
        embeddings = np.zeros((len(docs), encoded.shape[1]), dtype=np.float32)
        embeddings[wanted] = encoded
    index = SearchIndex(
        key=key,
        codes=codes,
        titles=titles,
        docs=docs,
        starts=starts,
        lex_weight=np.asarray([LEXICAL_FIELDS.get(d.field, 0.0) for d in docs], dtype=np.float32),
        dense_weight=dense_w,
        lexical=lexical,
        tokenizer_fingerprint=tokenizer.fingerprint,
        embeddings=embeddings,
        model_path=str(model) if model is not None else None,
        model_key=model_key,
        quantize=quantize,
    )
    _atomic_write(path, pickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL))
    return index


@dataclass
class Ranked:
    """Scores of every theme for one query (arrays aligned with ``SearchIndex.codes``)."""

    fused: np.ndarray
    lexical: np.ndarray
    dense: np.ndarray | None
    order: np.ndarray  # theme indices, best first


class Searcher:
    """Query-time side: tokenise, encode, score, fuse, calibrate."""

    def __init__(
        self,
        index: SearchIndex,
        tokenizer: Tokenizer | None = None,
        *,
        fusion: str | None = None,
        dense_weight: float | None = None,
        calibrator: calib.Calibrator | None = None,
        encoder: Encoder | None = None,
        colloquial: Colloquial | None = None,
    ) -> None:
        self.index = index
        self.colloquial = colloquial if colloquial is not None else load_colloquial()
        self.tokenizer = tokenizer or Tokenizer()
        if self.tokenizer.fingerprint != index.tokenizer_fingerprint:
            raise ValueError("tokenizer does not match the index (lexicon or settings changed)")
        self.fusion = fusion or config.fusion_method()
        finetuned = index.model_path is not None and "/models/ft-" in index.model_path.replace(os.sep, "/")
        self.dense_weight = config.dense_weight(finetuned) if dense_weight is None else dense_weight
        self.encoder = encoder
        if self.encoder is None and index.embeddings is not None and index.model_path:
            # One model per process, directory and quantisation mode, already loading since
            # `build_index`; wait for it here so that a built service answers at full speed from
            # its first query. The mode is the index's: queries are encoded like the documents.
            self.encoder = get_encoder(Path(index.model_path), index.quantize)
            self.encoder.load()
        elif self.encoder is not None and index.embeddings is not None and self.encoder.quantize != index.quantize:
            raise ValueError(
                f"encoder quantisation {self.encoder.quantize!r} does not match the index's "
                f"{index.quantize!r} (KNOWLEDGE_EMBED_QUANTIZE changed: rebuild the index)"
            )
        self.calibrator = calibrator or calib.DEFAULT
        self._lock = threading.Lock()

    @property
    def settings_key(self) -> str:
        return _digest(
            self.index.key,
            self.fusion,
            round(self.dense_weight, 4),
            calib.FEATURES,
            self.colloquial.fingerprint,
            QUERY_ENCODER if self.index.embeddings is not None else None,
        )

    def lexical_scores(self, query: str) -> np.ndarray:
        doc = self.index.lexical.scores(self.tokenizer.tokenize(query))
        return aggregate(doc, self.index.lex_weight, self.index.starts)

    def dense_scores(self, query: str) -> np.ndarray | None:
        if self.encoder is None or self.index.embeddings is None:
            return None
        vec = self.encoder.encode(dense_text(query))
        doc = self.index.embeddings @ vec
        return aggregate(doc, self.index.dense_weight, self.index.starts)

    def rank(self, query: str) -> Ranked:
        query = self.colloquial.expand(normalise(query))
        lex = self.lexical_scores(query)
        den = self.dense_scores(query) if self.dense_weight > 0 else None
        fused = fuse(self.fusion, lex, den, self.dense_weight)
        order = np.argsort(-fused, kind="stable")
        return Ranked(fused=fused, lexical=lex, dense=den, order=order)

    def features(self, ranked: Ranked, n: int) -> np.ndarray:
        idx = ranked.order[:n]
        return calib.candidate_features(ranked.fused, ranked.lexical, ranked.dense, idx)

    def probabilities(self, ranked: Ranked, n: int) -> np.ndarray:
        return self.calibrator.probabilities(self.features(ranked, n))


# ---- dev split (calibration only; the test split is never read here) ----


def dev_files(eval_dir: Path | None = None) -> list[Path]:
    eval_dir = eval_dir or config.eval_dir()
    return [p for p in (eval_dir / "queries_dev.yml", eval_dir / "out_of_scope.yml") if p.exists()]


def load_dev_split(eval_dir: Path | None = None) -> list[tuple[str, str | None]]:
    """(query, gold code) for the dev split; gold is None for out-of-scope queries."""
    import yaml

    eval_dir = eval_dir or config.eval_dir()
    out: list[tuple[str, str | None]] = []
    dev = eval_dir / "queries_dev.yml"
    if dev.exists():
        for item in (yaml.safe_load(dev.read_text(encoding="utf-8")) or {}).get("queries", []):
            if isinstance(item, dict) and item.get("q") and item.get("code"):
                out.append((str(item["q"]), str(item["code"])))
    oos = eval_dir / "out_of_scope.yml"
    if oos.exists():
        for item in (yaml.safe_load(oos.read_text(encoding="utf-8")) or {}).get("queries", []):
            if isinstance(item, dict) and item.get("q") and item.get("split") == "dev":
                out.append((str(item["q"]), None))
    return out


def calibration_examples(searcher: Searcher, labelled: list[tuple[str, str | None]]) -> list[calib.Example]:
    examples = []
    for query, gold in labelled:
        ranked = searcher.rank(query)
        n = min(calib.TOP_N, len(ranked.order))
        top_codes = [searcher.index.codes[i] for i in ranked.order[:n]]
        gold_idx = top_codes.index(gold) if gold in top_codes else -1
        examples.append(calib.Example(searcher.features(ranked, n), gold_idx, gold is not None))
    return examples


def load_or_fit_calibration(searcher: Searcher, cache: Path | None = None) -> calib.Calibrator:
    cache = cache or config.cache_dir()
    files = dev_files()
    if not files:
        return calib.DEFAULT
    key = _digest(
        searcher.settings_key, [(p.name, hashlib.sha256(p.read_bytes()).hexdigest()) for p in files]
    )
    path = cache / f"calib-{key}.json"
    if path.exists():
        try:
            return calib.Calibrator.from_dict(json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            log.warning("unreadable calibration cache %s: refitting", path)
    labelled = load_dev_split()
    if not any(g is None for _, g in labelled) or not any(g for _, g in labelled):
        return calib.DEFAULT
    cal = calib.fit(calibration_examples(searcher, labelled), fitted_on="dev")
    _atomic_write(path, json.dumps(cal.to_dict(), indent=1).encode())
    return cal
