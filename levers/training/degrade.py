"""Style degradations of a planner's gold plan: the rejected side of ORPO style pairs.

Each operation keeps seven questions and hurts one rubric dimension (fuse two questions,
swap in a generic one, duplicate one, make one stiff); seeded, so the data is reproducible.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from ruler.plan import Plan

GENERIC_QUESTIONS: tuple[str, ...] = (
    "What is your budget?",
    "What is your timeline?",
    "Do you have any other requirements?",
    "What are your main goals?",
    "Is there anything else I should know?",
    "Who else is involved?",
    "What are your preferences?",
)
DEGRADATIONS: tuple[str, ...] = ("fuse", "generic", "duplicate", "stiff")


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def _fuse(qs: list[str], rng: random.Random) -> list[str]:
    i = rng.randrange(len(qs) - 1)
    fused = qs[i].rstrip(" ?") + " and " + _lower_first(qs[i + 1])
    generic = rng.choice([g for g in GENERIC_QUESTIONS if g not in qs])
    return [*qs[:i], fused, *qs[i + 2 :], generic]


def _generic(qs: list[str], rng: random.Random) -> list[str]:
    i = rng.randrange(len(qs))
    out = list(qs)
    out[i] = rng.choice([g for g in GENERIC_QUESTIONS if g not in qs])
    return out


def _duplicate(qs: list[str], rng: random.Random) -> list[str]:
    i, j = rng.sample(range(len(qs)), 2)
    out = list(qs)
    out[j] = qs[i]
    return out


def _stiff(qs: list[str], rng: random.Random) -> list[str]:
    i = rng.randrange(len(qs))
    out = list(qs)
    out[i] = "Please specify, in precise terms, " + _lower_first(qs[i].rstrip(" ?")) + "?"
    return out


_OPS: dict[str, Callable[[list[str], random.Random], list[str]]] = {
    "fuse": _fuse,
    "generic": _generic,
    "duplicate": _duplicate,
    "stiff": _stiff,
}


def degrade_plan(plan: Plan, rng: random.Random, count: int = 2) -> tuple[Plan, list[str]]:
    """A style-degraded rewrite of a plan (still seven questions) and the operations applied."""
    ops = rng.sample(DEGRADATIONS, count)
    questions = list(plan.questions)
    for op in ops:
        questions = _OPS[op](questions, rng)
    return Plan(title=plan.title, questions=questions), ops
