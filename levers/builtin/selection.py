"""Choosing seven questions out of many, deterministically: the selection step several levers share.

`candidates` parses a model's numbered list; `facility_location` and `mmr` pick a subset over
MiniLM embeddings (`levers.retrieval.embed`); `exactly_seven` pads a short pick from the
leftover candidates and trims a long one, so a lever gives seven questions whenever the model
gave at least seven distinct ones.
"""

from __future__ import annotations

import numpy as np

from ruler.plan import QUESTION_COUNT, Plan, parse_plan, render_plan

OVERGENERATE_PROMPT = (
    "I want to {task}. Before you make a plan, what {n} questions would you ask me? Start with "
    "a one-line title, then list the questions numbered 1 to {n}."
)


def candidates(text: str) -> tuple[str, list[str]]:
    """The title and the distinct questions of a model's answer."""
    plan = parse_plan(text).plan
    questions = list(dict.fromkeys(q.strip() for q in plan.questions if q.strip()))
    return plan.title, questions


def facility_location(
    targets: np.ndarray, weights: np.ndarray, items: np.ndarray, k: int
) -> list[int]:
    """Greedy facility location: items maximizing sum_t weight_t * max_{s in S} sim(t, s)."""
    sims = targets @ items.T  # (targets, items)
    covered = np.zeros(len(targets), dtype=np.float64)
    chosen: list[int] = []
    for _ in range(min(k, len(items))):
        gains = (weights[:, None] * np.maximum(sims - covered[:, None], 0.0)).sum(axis=0)
        gains[chosen] = -np.inf
        best = int(np.argmax(gains))  # ties: the earliest item
        chosen.append(best)
        covered = np.maximum(covered, sims[:, best])
    return chosen


def mmr(scores: np.ndarray, items: np.ndarray, k: int, redundancy: float) -> list[int]:
    """Highest scores first, skipping an item more similar than `redundancy` to a kept one."""
    chosen: list[int] = []
    for i in np.argsort(-scores, kind="stable"):
        if all(float(items[i] @ items[j]) <= redundancy for j in chosen):
            chosen.append(int(i))
        if len(chosen) == k:
            break
    return chosen


SHORT_TOP_UP = 2  # sampled calls made while fewer than seven candidates are listed


def exactly_seven(chosen: list[str], pool: list[str]) -> list[str]:
    """The chosen questions, padded in order from the rest of the pool, cut at seven."""
    kept = list(dict.fromkeys(chosen))
    for question in pool:
        if len(kept) >= QUESTION_COUNT:
            break
        if question not in kept:
            kept.append(question)
    return kept[:QUESTION_COUNT]


def plan_text(title: str, task: str, questions: list[str]) -> str:
    """The final numbered plan (the task as title when the model gave none)."""
    return render_plan(
        Plan(title=title or task.strip().rstrip(".").capitalize(), questions=questions)
    )


def overgenerate(ctx, n: int, top_up: int = 0) -> tuple[str, list[str]]:
    """Calls (on the context earlier levers built) asking for n questions; title, questions.

    A small model often lists fewer than asked: up to `top_up` more calls, sampled with their
    own seeds, add their new questions until there are n distinct candidates. Fewer than seven
    would break the answer's contract (a failed case), so up to `SHORT_TOP_UP` further sampled
    calls are made while the candidates are short of seven, whatever `top_up` says.
    """
    stop = [s for s in ctx.options.stop if not s.strip().rstrip(".").isdigit()]
    options = ctx.options.model_copy(update={"stop": [*stop, f"\n{n + 1}."]})
    instruction = OVERGENERATE_PROMPT.format(task=ctx.task.strip().rstrip("."), n=n)
    messages = ctx.with_instruction(instruction)
    answer = ctx.call(None, messages, options, label=f"ask for {n}")
    title, questions = candidates(answer.text)
    for i in range(top_up + SHORT_TOP_UP):
        if len(questions) >= (n if i < top_up else QUESTION_COUNT):
            break
        sampled = options.model_copy(update={"temperature": 0.8, "seed": 1 + i})
        more = ctx.call(None, messages, sampled, label=f"ask for more {i + 1}")
        extra = candidates(more.text)[1]
        questions = list(dict.fromkeys([*questions, *extra]))[:n]
    return title, questions
