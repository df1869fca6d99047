"""The sanity suite of any feature: gold must beat degraded variants of itself.

Variants are built generically from the feature's schema and rubric, for each dimension on the
field it reads (deterministic, no model writes them):

- `blanked`: every text at the field emptied (it may break the contract: then a failed case);
- `duplicated`: the array's last item replaced by a copy of its first (redundancy dimensions);
- `swapped`: the field's values taken from another case's gold (the next case in order): half
  the items of an array, a text, or a key of every item;
- `flipped`: every enum value at the field changed to another allowed value;

plus the feature's own hand-made `degraded.jsonl` (variant named there). A variant passes when
its dimension scores strictly lower than the gold's and its pairwise outcome is L or T. The
report also has, per variant kind, how often each dimension scored lower than the gold's
(`lower_rates`), which shows what a variant kind actually moves.
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from ruler.contract import schema_at, split_at_items
from ruler.feature import Feature, RubricDimension
from ruler.records import Case, JudgeMode, PerturbationResult, SanityReport, Verdict, dimensions_for

KINDS = ("blanked", "duplicated", "swapped", "flipped")
Variant = tuple[str, str, Case, Any]  # (name, dimension, case, answer)


def _get(value: Any, steps: list[str]) -> Any:
    for step in steps:
        if not isinstance(value, dict) or step not in value:
            return None
        value = value[step]
    return value


def _set(value: Any, steps: list[str], new: Any) -> bool:
    if not steps:
        return False
    holder = _get(value, steps[:-1])
    if not isinstance(holder, dict) or steps[-1] not in holder:
        return False
    holder[steps[-1]] = new
    return True


def _array(answer: Any, dim: RubricDimension) -> list | None:
    """The array a dimension's field lies in or is (None when it reads no array)."""
    parent, key = split_at_items(dim.field)
    target = _get(answer, parent) if parent else _get(answer, key)
    return target if isinstance(target, list) else None


def blanked(gold: Any, other: Any, dim: RubricDimension, schema: dict) -> Any:
    answer = copy.deepcopy(gold)
    parent, key = split_at_items(dim.field)
    if parent:
        items = _get(answer, parent)
        changed = False
        for item in items if isinstance(items, list) else []:
            if isinstance(_get(item, key), str):
                changed = _set(item, key, "") or changed
        return answer if changed else None
    value = _get(answer, key)
    if isinstance(value, str):
        return answer if _set(answer, key, "") else None
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return answer if _set(answer, key, [""] * len(value)) else None
    return None


def duplicated(gold: Any, other: Any, dim: RubricDimension, schema: dict) -> Any:
    answer = copy.deepcopy(gold)
    items = _array(answer, dim)
    if not items or len(items) < 2:
        return None
    items[-1] = copy.deepcopy(items[0])
    return answer


def swapped(gold: Any, other: Any, dim: RubricDimension, schema: dict) -> Any:
    answer = copy.deepcopy(gold)
    parent, key = split_at_items(dim.field)
    mine, theirs = (_get(answer, parent), _get(other, parent)) if parent else (None, None)
    if parent and isinstance(mine, list) and isinstance(theirs, list) and theirs:
        if not key:  # items themselves: the second half comes from the other case
            half = math.ceil(len(mine) / 2)
            mine[-half:] = copy.deepcopy((theirs * len(mine))[:half])
            return answer
        for i, item in enumerate(mine):
            _set(item, key, copy.deepcopy(_get(theirs[i % len(theirs)], key)))
        return answer
    here, there = _get(answer, key), _get(other, key)
    if isinstance(here, list) and isinstance(there, list) and there:
        half = math.ceil(len(here) / 2)
        here[-half:] = copy.deepcopy((there * len(here))[:half])
        return answer
    if there is None or there == here or not _set(answer, key, copy.deepcopy(there)):
        return None
    return answer


def flipped(gold: Any, other: Any, dim: RubricDimension, schema: dict) -> Any:
    options = (schema_at(schema, dim.field) or {}).get("enum")
    if not options or len(options) < 2:
        return None
    answer = copy.deepcopy(gold)
    parent, key = split_at_items(dim.field)
    holders = _get(answer, parent) if parent else [answer]
    changed = False
    for item in holders if isinstance(holders, list) else []:
        value = _get(item, key)
        if value in options:
            changed = _set(item, key, options[(options.index(value) + 1) % len(options)]) or changed
    return answer if changed else None


BUILDERS: dict[str, Callable[[Any, Any, RubricDimension, dict], Any]] = {
    "blanked": blanked,
    "duplicated": duplicated,
    "swapped": swapped,
    "flipped": flipped,
}
APPLIES = {  # which kinds are meant to lower a dimension measured by each signal
    "agreement": ("blanked", "swapped", "flipped"),
    "grounding": ("blanked", "swapped"),
    "redundancy": ("duplicated",),
    "contract": ("blanked",),
}


def build_variants(feature: Feature, cases: list[Case], degraded: list[dict]) -> list[Variant]:
    """Every generic variant of every case, then the feature's hand-made ones."""
    variants: list[Variant] = []
    for index, case in enumerate(cases):
        other = cases[(index + 1) % len(cases)].gold_data if len(cases) > 1 else None
        for dim in feature.rubric:
            for kind in APPLIES[dim.measured_by]:
                if kind == "swapped" and other is None:
                    continue
                answer = BUILDERS[kind](case.gold_data, other, dim, feature.output_schema)
                if answer is not None and answer != case.gold_data:
                    variants.append((kind, dim.name, case, answer))
    by_id = {c.id: c for c in cases}
    for row in degraded:
        if row["case"] in by_id:
            variants.append((row["variant"], row["dimension"], by_id[row["case"]], row["answer"]))
    return variants


def run_feature_sanity(
    judge,
    feature: Feature,
    cases: list[Case],
    mode: JudgeMode = "standard",
    degraded: list[dict] | None = None,
) -> SanityReport:
    """Judge every gold and variant in one batch; pass rates per (variant, dimension)."""
    started = time.perf_counter()
    dims = dimensions_for(mode, feature.dimension_names)
    variants = [v for v in build_variants(feature, cases, degraded or []) if v[1] in dims]
    pairs = [(c, json.dumps(c.gold_data, ensure_ascii=False)) for c in cases]
    pairs += [(case, json.dumps(answer, ensure_ascii=False)) for _, _, case, answer in variants]
    verdicts = judge.judge_many(pairs, mode)
    gold = {c.id: v for c, v in zip(cases, verdicts[: len(cases)], strict=True)}
    groups: dict[tuple[str, str], list[tuple[str, Verdict]]] = defaultdict(list)
    lowered: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for (name, dim, case, _), verdict in zip(variants, verdicts[len(cases) :], strict=True):
        groups[(name, dim)].append((case.id, verdict))
        for d in dims:
            lowered[name][d].append(verdict.scores[d] < gold[case.id].scores[d])
    results = []
    for (name, dim), judged in groups.items():
        checks = [
            (cid, v.scores[dim] < gold[cid].scores[dim], v.outcome in ("L", "T"))
            for cid, v in judged
        ]
        results.append(
            PerturbationResult(
                name=name,
                dimension=dim,
                total=len(checks),
                passed=sum(lo and pw for _, lo, pw in checks),
                dimension_lower=sum(lo for _, lo, _ in checks),
                pairwise_not_won=sum(pw for _, _, pw in checks),
                failures=[cid for cid, lo, pw in checks if not (lo and pw)],
            )
        )
    rates = {
        name: {d: sum(flags) / len(flags) for d, flags in per_dim.items()}
        for name, per_dim in lowered.items()
    }
    return SanityReport(
        judge_id=judge.judge_id,
        mode=mode,
        results=results,
        seconds=time.perf_counter() - started,
        lower_rates=rates,
    )
