"""Training rows for a feature other than the planner: its gold is a JSON answer.

The answer is rendered as the feature's JSON (compact, as the schema lever and the prompt's
examples write it), and a style pair's rejected side is the gold degraded generically, the way
the ruler's sanity suite degrades any feature: an array item duplicated over another (a repeat),
a string blanked to a generic filler (nothing said), two items' order swapped with one detail
dropped (a weaker answer). Every degradation is seeded by the case, so the data is reproducible.
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any

FILLER = "Not stated."
ANSWER_DEGRADATIONS: tuple[str, ...] = ("duplicate", "blank", "drop_detail")


def render_answer(value: Any) -> str:
    """A JSON answer as the agent is asked to write it: one compact JSON value."""
    return json.dumps(value, ensure_ascii=False)


def _arrays(value: Any) -> list[list[Any]]:
    """Every array inside the answer with at least two items (the places a repeat can hide)."""
    found: list[list[Any]] = []
    if isinstance(value, list):
        if len(value) >= 2:
            found.append(value)
        for item in value:
            found += _arrays(item)
    elif isinstance(value, dict):
        for inner in value.values():
            found += _arrays(inner)
    return found


def _strings(value: Any, path: tuple = ()) -> list[tuple]:
    """The paths of every non-empty string inside the answer."""
    if isinstance(value, str):
        return [path] if value.strip() else []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _strings(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _strings(v, (*path, i))]
    return []


def _set(value: Any, path: tuple, new: Any) -> None:
    for key in path[:-1]:
        value = value[key]
    value[path[-1]] = new


def _duplicate(value: Any, rng: random.Random) -> bool:
    arrays = _arrays(value)
    if not arrays:
        return False
    items = rng.choice(arrays)
    i, j = rng.sample(range(len(items)), 2)
    items[j] = copy.deepcopy(items[i])
    return True


def _blank(value: Any, rng: random.Random) -> bool:
    paths = _strings(value)
    if not paths:
        return False
    _set(value, rng.choice(paths), FILLER)
    return True


def _drop_detail(value: Any, rng: random.Random) -> bool:
    """Swap two items of an array and cut the longest string of the first to its first words."""
    arrays = _arrays(value)
    if not arrays:
        return _blank(value, rng)
    items = rng.choice(arrays)
    i, j = rng.sample(range(len(items)), 2)
    items[i], items[j] = items[j], items[i]
    paths = _strings(items[i])
    if paths:
        longest = max(paths, key=lambda p: len(_get(items[i], p)))
        words = _get(items[i], longest).split()
        _set(items[i], longest, " ".join(words[: max(1, len(words) // 3)]))
    return True


def _get(value: Any, path: tuple) -> Any:
    for key in path:
        value = value[key]
    return value


_OPS = {"duplicate": _duplicate, "blank": _blank, "drop_detail": _drop_detail}


def degrade_answer(value: Any, rng: random.Random, count: int = 2) -> tuple[Any, list[str]]:
    """A degraded copy of a gold answer and the operations that changed it."""
    degraded = copy.deepcopy(value)
    applied = [op for op in rng.sample(ANSWER_DEGRADATIONS, count) if _OPS[op](degraded, rng)]
    if degraded == value and _blank(degraded, rng):  # nothing changed it: say nothing instead
        applied.append("blank")
    return degraded, applied
