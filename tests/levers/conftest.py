"""Fixtures for lever tests: a cheap stand-in for MiniLM, in-process lever plugins."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np
import pytest

from levers import retrieval
from levers.builtin import rag
from levers.hookspecs import hookimpl
from levers.registry import unload_lever_files
from models.plugins import pm


def bag_of_words_embed(texts: list[str]) -> np.ndarray:
    """Hashed bag-of-words vectors, L2-normalized: similar wording, similar vectors."""
    out = np.zeros((len(texts), 64), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in re.findall(r"[a-z0-9]+", text.lower()):
            out[row, hashlib.sha256(word.encode()).digest()[0] % 64] += 1.0
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms == 0, 1.0, norms)


@pytest.fixture(autouse=True)
def _cheap_embeddings(request, monkeypatch) -> Iterator[None]:
    """Fast tests never load MiniLM; slow tests use the real model."""
    rag.pool_vectors.cache_clear()
    if request.node.get_closest_marker("slow") is None:
        monkeypatch.setattr(retrieval, "embed", bag_of_words_embed)
    yield
    rag.pool_vectors.cache_clear()
    unload_lever_files()


@pytest.fixture
def register_levers() -> Iterator:
    """`register_levers(*lever_classes, name=...)` registers a plugin for one test."""
    names: list[str] = []

    def register(*classes, name: str = "test-levers") -> None:
        @hookimpl
        def register_levers(register):
            for cls in classes:
                register(cls)

        pm.register(SimpleNamespace(register_levers=register_levers), name=name)
        names.append(name)

    yield register
    for name in names:
        if pm.get_plugin(name) is not None:
            pm.unregister(name=name)
