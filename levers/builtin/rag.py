"""RAG lever: show the k training-pool cases nearest to the task as worked examples."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from levers import retrieval
from levers.hookspecs import hookimpl
from levers.lever import Lever
from levers.pool import as_example, training_pool


class RagParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    k: int = Field(2, ge=1, le=8, description="how many examples to show")
    method: Literal["embedding", "bm25", "hybrid"] = "embedding"
    nearest_last: bool = Field(True, description="put the closest example next to the task")


@lru_cache(maxsize=1)
def pool_vectors() -> np.ndarray:
    """The training pool's task embeddings (computed once per process)."""
    return retrieval.embed([case.task for case in training_pool()])


def rank_pool(task: str, method: str) -> list[int]:
    """Training-pool indices, most similar to the task first."""
    pool = training_pool()
    if not pool:
        return []
    scores = np.zeros(len(pool), dtype=np.float32)
    if method in ("embedding", "hybrid"):
        scores += pool_vectors() @ retrieval.embed([task])[0]
    if method in ("bm25", "hybrid"):
        bm25 = retrieval.bm25_scores([case.task for case in pool], task)
        scores += bm25 / bm25.max() if bm25.max() > 0 else bm25
    return [int(i) for i in np.argsort(-scores, kind="stable")]


class RagLever(Lever):
    """Retrieve the nearest training cases (MiniLM embeddings and/or BM25) as examples."""

    name = "rag"
    lever_class = "rag"
    Params = RagParams

    @hookimpl
    def prepare(self, ctx) -> None:
        with ctx.step(f"retrieve k={self.params.k} ({self.params.method})"):
            pool = training_pool()
            chosen = [pool[i] for i in rank_pool(ctx.task, self.params.method)[: self.params.k]]
            if self.params.nearest_last:
                chosen.reverse()
            ctx.examples.extend(as_example(case, "rag") for case in chosen)


@hookimpl
def register_levers(register):
    register(RagLever)
