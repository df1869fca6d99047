"""The training pool levers may draw examples from (never the held-out ruler cases), and the
worked `Example` a prompt shows.

The planner's pool is read as the ruler's cases (gold a `Plan`, as before features existed);
another feature's pool is read here as plain JSON lines (`{"id", "input", "gold"}`), from the
path its `FeatureSpec` carries: lever code never imports the ruler's feature model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from levers.feature import FeatureSpec, active
from models.base import AutoresearchError
from ruler.loader import read_training_pool
from ruler.plan import Plan


@dataclass(frozen=True)
class PoolCase:
    """One training-pool case of a feature other than the planner: its input and gold answer."""

    id: str
    task: str
    gold: Any


@dataclass
class Example:
    """A worked example shown to the model (from the training pool, never the ruler).

    A planner example carries its `plan`; another feature's carries its `answer` (the JSON
    value of its gold)."""

    task: str
    plan: Plan | None = None
    source: str = ""
    answer: Any = None

    def value(self) -> Any:
        """The example's answer as JSON data, whichever feature it is for."""
        if self.answer is not None:
            return self.answer
        return self.plan.model_dump() if self.plan is not None else {}


def training_pool(feature: FeatureSpec | None = None) -> tuple[Any, ...]:
    """The feature's training pool (default: this process's feature), loaded once per process.
    Planner cases are `ruler.records.Case`s; other features' are `PoolCase`s."""
    spec = feature or active()
    return pool_cases(spec.pool, spec.planner)


@lru_cache(maxsize=4)
def pool_cases(pool: str, planner: bool) -> tuple[Any, ...]:
    """The pool at `pool` ('': the planner's shipped pool; another feature without one has
    none)."""
    if not pool:
        return tuple(read_training_pool()) if planner else ()
    return tuple(read_pool_file(Path(pool)))


def read_pool_file(path: Path) -> list[PoolCase]:
    """A feature's pool/train.jsonl as `PoolCase`s (`input`, or the planner's `task`)."""
    if not path.is_file():
        raise AutoresearchError(f"{path}: this feature has no training pool")
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            text = row.get("input", row.get("task"))
            cases.append(PoolCase(id=str(row["id"]), task=str(text), gold=row["gold"]))
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise AutoresearchError(
                f"{path}:{number}: not a pool case ({type(exc).__name__}); each line needs "
                '{"id", "input", "gold"}'
            ) from None
    return cases


def as_example(case: Any, source: str) -> Example:
    """A pool case as a worked example."""
    if isinstance(case, PoolCase):
        return Example(task=case.task, answer=case.gold, source=f"{source}:{case.id}")
    return Example(task=case.task, plan=case.gold, source=f"{source}:{case.id}")
