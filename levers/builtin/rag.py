"""RAG lever: show the k training-pool cases nearest to the input as worked examples.

The pool is the feature's own (`ctx.feature`): the planner's tasks and plans, or another
feature's inputs and JSON answers; ranking is over the inputs either way.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from levers import retrieval
from levers.feature import FeatureSpec, active
from levers.hookspecs import hookimpl
from levers.lever import Lever
from levers.pool import as_example, pool_cases, training_pool


class RagParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    k: int = Field(2, ge=1, le=8, description="how many examples to show")
    method: Literal["embedding", "bm25", "hybrid"] = "embedding"
    nearest_last: bool = Field(True, description="put the closest example next to the task")


@lru_cache(maxsize=2)
def pool_vectors(pool: str = "", planner: bool = True) -> np.ndarray:
    """A training pool's input embeddings (computed once per process and pool; '' is the
    planner's)."""
    return retrieval.embed([case.task for case in pool_cases(pool, planner)])


def rank_pool(task: str, method: str, feature: FeatureSpec | None = None) -> list[int]:
    """Training-pool indices, most similar to the input first."""
    pool = training_pool(feature)
    if not pool:
        return []
    scores = np.zeros(len(pool), dtype=np.float32)
    if method in ("embedding", "hybrid"):
        spec = feature or active()
        scores += pool_vectors(spec.pool, spec.planner) @ retrieval.embed([task])[0]
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
            pool = training_pool(ctx.feature)
            ranked = rank_pool(ctx.task, self.params.method, ctx.feature)
            chosen = [pool[i] for i in ranked[: self.params.k]]
            if self.params.nearest_last:
                chosen.reverse()
            ctx.examples.extend(as_example(case, "rag") for case in chosen)


@hookimpl
def register_levers(register):
    register(RagLever)
