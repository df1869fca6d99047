"""Similarity helpers for levers: MiniLM sentence embeddings and BM25 ranking."""

from __future__ import annotations

from functools import lru_cache

import numpy as np


def embed(texts: list[str]) -> np.ndarray:
    """L2-normalized MiniLM embeddings, one row per text (the ruler's model, thread-safe)."""
    from ruler.embeddings import embed as ruler_embed

    return np.asarray(ruler_embed(list(texts)), dtype=np.float32)


def bm25_scores(corpus: list[str], query: str) -> np.ndarray:
    """BM25 score of every corpus text for the query (bm25s, English stopwords)."""
    import bm25s

    retriever = _bm25_index(tuple(corpus))
    tokens = bm25s.tokenize([query], stopwords="en", show_progress=False)
    scores = np.zeros(len(corpus), dtype=np.float32)
    if not tokens.vocab:
        return scores
    docs, values = retriever.retrieve(tokens, k=len(corpus), show_progress=False)
    scores[docs[0]] = values[0]
    return scores


@lru_cache(maxsize=4)
def _bm25_index(corpus: tuple[str, ...]):
    import bm25s

    retriever = bm25s.BM25()
    retriever.index(
        bm25s.tokenize(list(corpus), stopwords="en", show_progress=False), show_progress=False
    )
    return retriever
