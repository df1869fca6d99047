"""Ensemble lever: k samples of the plan merged by clustering their questions and voting.

The k plan calls use the prompt earlier levers built, varied by seed (sampled at
`temperature`), by temperature (spread from 0 up to `temperature`) or by an added instruction
variant. A Python step clusters all their questions greedily by embedding similarity (a question
joins the first cluster whose first member it matches above `cluster_similarity`), counts each
cluster's votes (how many samples have a question in it) and keeps the seven best-voted
clusters, each represented by its member closest to the cluster's centre; ties go to the
cluster seen first. The title is the most common one.

Another feature's samples are whole JSON answers: the merge keeps the medoid, the sample that
keeps the contract and is most like the others (self-consistency over MiniLM embeddings).
"""

from __future__ import annotations

from collections import Counter
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from levers import retrieval
from levers.builtin.answers import medoid
from levers.builtin.selection import candidates, exactly_seven, plan_text
from levers.hookspecs import hookimpl
from levers.lever import Lever
from models.base import Message
from ruler.plan import QUESTION_COUNT

VARIANTS = (
    "",
    "Ask the most important questions first.",
    "Each question must ask exactly one thing and be specific to this task.",
    "Make the questions short and friendly.",
    "Ask about budget, time, people and constraints where they matter.",
)
FEATURE_VARIANTS = (
    "",
    "Put the most important item first.",
    "Use only what the input says; invent nothing.",
    "Keep every part short and exact.",
    "Never repeat the same point twice.",
)


class EnsembleParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    k: int = Field(4, ge=2, le=8, description="how many plans to sample")
    vary: Literal["seed", "temperature", "instruction"] = "seed"
    temperature: float = Field(0.7, ge=0.0, le=1.5, description="sampling temperature (max)")
    cluster_similarity: float = Field(
        0.75, ge=0.4, le=0.95, description="similarity that puts two questions in one cluster"
    )


def cluster(vectors: np.ndarray, threshold: float) -> list[list[int]]:
    """Greedy clustering: each item joins the first cluster whose seed it matches."""
    clusters: list[list[int]] = []
    for i in range(len(vectors)):
        for members in clusters:
            if float(vectors[i] @ vectors[members[0]]) >= threshold:
                members.append(i)
                break
        else:
            clusters.append([i])
    return clusters


def vote(samples: list[list[str]], threshold: float) -> list[str]:
    """The representative questions of the seven best-voted clusters, in first-seen order."""
    flat = [(s, q) for s, questions in enumerate(samples) for q in questions]
    if not flat:
        return []
    vectors = retrieval.embed([q for _, q in flat])
    clusters = cluster(vectors, threshold)
    votes = [len({flat[i][0] for i in members}) for members in clusters]
    order = sorted(range(len(clusters)), key=lambda c: (-votes[c], clusters[c][0]))
    kept = sorted(order[:QUESTION_COUNT], key=lambda c: clusters[c][0])
    chosen = []
    for c in kept:
        members = clusters[c]
        centre = vectors[members].mean(axis=0)
        best = max(members, key=lambda i: (float(vectors[i] @ centre), -i))
        chosen.append(flat[best][1])
    return chosen


class EnsembleLever(Lever):
    """Sample k plans (seeds, temperatures or prompt variants); merge them by cluster votes."""

    name = "ensemble"
    lever_class = "multi_call"
    Params = EnsembleParams

    def sample(self, ctx, i: int) -> str:
        p = self.params
        messages, update = list(ctx.messages), {}
        if p.vary == "seed":
            update = {"temperature": p.temperature, "seed": (ctx.options.seed or 0) + i}
        elif p.vary == "temperature":
            update = {"temperature": round(p.temperature * i / (p.k - 1), 3), "seed": i}
        else:
            variants = VARIANTS if ctx.feature.planner else FEATURE_VARIANTS
            if variant := variants[i % len(variants)]:
                last = messages[-1]
                messages[-1] = Message(role=last.role, content=f"{last.content} {variant}")
        options = ctx.options.model_copy(update=update)
        return ctx.call(None, messages, options, label=f"sample {i + 1}/{p.k}").text

    @hookimpl
    def generate(self, ctx) -> str:
        texts = [self.sample(ctx, i) for i in range(self.params.k)]
        if not ctx.feature.planner:
            with ctx.step(f"medoid of {len(texts)} answers"):
                return medoid(ctx.feature, texts)
        parsed = [candidates(text) for text in texts]
        samples = [questions for _, questions in parsed]
        with ctx.step(f"cluster and vote over {sum(map(len, samples))}"):
            kept = vote(samples, self.params.cluster_similarity)
            pool = [q for questions in samples for q in questions]
            titles = Counter(title for title, _ in parsed if title)
            title = titles.most_common(1)[0][0] if titles else ""
            return plan_text(title, ctx.task, exactly_seven(kept, pool))


@hookimpl
def register_levers(register):
    register(EnsembleLever)
