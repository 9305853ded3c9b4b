"""Hybrid retrieval over the catalogue: BM25 (jieba words + character n-grams) and embeddings.

Modules, one job each:
- `text`: normalisation and tokenisation;
- `lexical`: BM25 (rank_bm25 for the statistics, a sparse matrix for fast queries);
- `dense`: sentence embeddings (sentence-transformers, one model per process for documents and queries);
- `finetune`: optional set-up-time fine-tuning of the embedding model;
- `fusion`: per-theme aggregation and score / rank fusion;
- `calibration`: turning fused scores into 0..1 confidences and verdicts;
- `index`: building and caching the whole index;
- `cli`: ``python -m knowledge search`` and ``build-index``.
"""
