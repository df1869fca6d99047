"""The training pool levers may draw examples from (never the held-out ruler cases), and the
worked `Example` a prompt shows."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ruler.loader import read_training_pool
from ruler.plan import Plan
from ruler.records import Case


@dataclass
class Example:
    """A worked example shown to the model (from the training pool, never the ruler)."""

    task: str
    plan: Plan
    source: str = ""


@lru_cache(maxsize=1)
def training_pool() -> tuple[Case, ...]:
    """The planner ruler's training pool (pool/train.jsonl), loaded once per process; its
    cases are never read (lever processes cannot open them)."""
    return tuple(read_training_pool())


def as_example(case: Case, source: str) -> Example:
    return Example(task=case.task, plan=case.gold, source=f"{source}:{case.id}")
