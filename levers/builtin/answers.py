"""Choosing among JSON answers of any feature: the steps multi-call levers share off the planner.

The planner's levers pick seven questions out of many (`selection`). Another feature's answer is
one JSON value with a contract (its JSON Schema), so these levers work on whole answers
instead: `contract_problems` says what breaks the schema (jsonschema, the contract levers may
know), `item_texts` reads the items of its arrays (where repeats hide), and `best_answer` /
`medoid` pick one answer among samples by explicit, deterministic scores over MiniLM
embeddings (`levers.retrieval.embed`).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from levers import retrieval
from levers.feature import FeatureSpec, json_answer


def contract_problems(value: Any, schema: dict[str, Any], limit: int = 3) -> list[str]:
    """What in `value` breaks the schema, a short line each (no JSON at all: 'not JSON')."""
    if value is None:
        return ["not JSON"]
    from jsonschema import Draft202012Validator

    errors = sorted(Draft202012Validator(schema).iter_errors(value), key=lambda e: list(e.path))
    found = []
    for error in errors[:limit]:
        where = "/".join(str(p) for p in error.path) or "the answer"
        found.append(f"{where}: {error.message[:120]}")
    return found


def string_leaves(value: Any) -> list[str]:
    """Every non-empty string inside a JSON value, in document order."""
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, dict):
        return [s for v in value.values() for s in string_leaves(v)]
    if isinstance(value, list):
        return [s for v in value for s in string_leaves(v)]
    return []


def item_texts(value: Any) -> list[list[str]]:
    """The items of every array in the answer, each item as one text (its strings joined)."""
    groups: list[list[str]] = []
    if isinstance(value, list):
        texts = [" ".join(string_leaves(item)) for item in value]
        if len([t for t in texts if t]) > 1:
            groups.append([t for t in texts if t])
        for item in value:
            groups += item_texts(item)
    elif isinstance(value, dict):
        for inner in value.values():
            groups += item_texts(inner)
    return groups


def redundancy(value: Any) -> float:
    """The highest similarity between two items of one array (0: no array of two items)."""
    worst = 0.0
    for texts in item_texts(value):
        vectors = retrieval.embed(texts)
        sims = vectors @ vectors.T
        np.fill_diagonal(sims, 0.0)
        worst = max(worst, float(sims.max()))
    return worst


def grounding(source: str, value: Any) -> float:
    """Mean similarity of the answer's strings to the input (0 for an answer without any)."""
    leaves = string_leaves(value)
    if not leaves:
        return 0.0
    vectors = retrieval.embed([source, *leaves])
    return float((vectors[1:] @ vectors[0]).mean())


def score(feature: FeatureSpec, source: str, value: Any, max_similarity: float) -> tuple:
    """How good an answer looks without a judge: contract kept first, then grounded in the
    input, with a repeat (two array items above `max_similarity`) counted against it."""
    problems = contract_problems(value, feature.output_schema)
    repeated = value is not None and redundancy(value) > max_similarity
    return (-len(problems), -int(repeated), grounding(source, value) if value is not None else -1)


def best_answer(feature: FeatureSpec, source: str, texts: list[str], max_similarity: float) -> str:
    """The best of several answer texts by `score` (ties: the earliest), as compact JSON."""
    values = [json_answer(t) for t in texts]
    scores = [score(feature, source, v, max_similarity) for v in values]
    best = max(range(len(texts)), key=lambda i: (scores[i], -i))
    return render(values[best], texts[best])


def medoid(feature: FeatureSpec, texts: list[str]) -> str:
    """The answer most like the others (self-consistency) among those that keep the contract
    (else among those that parse; else the first text)."""
    values = [json_answer(t) for t in texts]
    valid = [i for i, v in enumerate(values) if not contract_problems(v, feature.output_schema)]
    pool = valid or [i for i, v in enumerate(values) if v is not None]
    if not pool:
        return texts[0] if texts else ""
    if len(pool) == 1:
        return render(values[pool[0]], texts[pool[0]])
    vectors = retrieval.embed([json.dumps(values[i], ensure_ascii=False) for i in pool])
    centrality = (vectors @ vectors.T).sum(axis=1)
    best = pool[int(np.argmax(centrality))]  # ties: the earliest
    return render(values[best], texts[best])


def render(value: Any, fallback: str) -> str:
    """A parsed answer as compact JSON, or the text it came from when it did not parse."""
    return json.dumps(value, ensure_ascii=False) if value is not None else fallback


def request_text(ctx) -> str:
    """The request the earlier levers built for this case (the last user turn), or the
    feature's own instruction with the input."""
    if ctx.messages and ctx.messages[-1].role == "user":
        return ctx.messages[-1].content
    return ctx.feature.render(ctx.task)
