"""The training pool levers may draw examples from (never the held-out ruler cases)."""

from __future__ import annotations

from functools import lru_cache

from levers.context import Example
from ruler.loader import load_ruler
from ruler.records import Case


@lru_cache(maxsize=1)
def training_pool() -> tuple[Case, ...]:
    """The planner ruler's training pool (train.jsonl), loaded once per process."""
    return tuple(load_ruler().training_pool())


def as_example(case: Case, source: str) -> Example:
    return Example(task=case.task, plan=case.gold, source=f"{source}:{case.id}")
