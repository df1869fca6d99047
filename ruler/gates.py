"""Gates: judge a candidate's answers on a named split and turn verdicts into a GateResult.

`evaluate` verifies the ruler lock first (a changed ruler refuses to run), serves verdicts from
the cache where it can, judges the rest in one `judge_many` batch (concurrent for remote
judges), and attaches a seeded paired-bootstrap interval, plus a comparison when a baseline
result is given. A case with no candidate text is judged as an unparseable answer (worst).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection

from ruler.cache import VerdictCache, verdict_key
from ruler.loader import Ruler, load_ruler
from ruler.quality import bootstrap_interval, compare, per_case_quality, quality
from ruler.records import DIMENSIONS, Case, GateResult, JudgeMode, Verdict, dimensions_for


def _judge_missing(
    judge,
    todo: list[tuple[Case, str]],
    mode: JudgeMode,
    progress: Callable[[int, int], None] | None,
    done: int,
    total: int,
    chunk: int = 10,
) -> list[Verdict]:
    """Judge in chunks so a progress bar moves; each chunk is one judge_many batch."""
    verdicts: list[Verdict] = []
    step = len(todo) if progress is None else chunk
    for start in range(0, len(todo), max(step, 1)):
        verdicts += judge.judge_many(todo[start : start + step], mode)
        if progress:
            progress(done + len(verdicts), total)
    return verdicts


def summarize(
    verdicts: list[Verdict], gate: str, mode: JudgeMode, judge_id: str, ruler_hash: str
) -> GateResult:
    names = tuple(verdicts[0].scores) if verdicts else DIMENSIONS  # the ruler's rubric
    dims = dimensions_for(mode, names)
    n = len(verdicts)
    means = {d: sum(v.scores[d] for v in verdicts) / n if n else 0.0 for d in dims}
    counts = {o: sum(v.outcome == o for v in verdicts) for o in "WTL"}
    per_case = {v.case_id: per_case_quality(v) for v in verdicts}
    return GateResult(
        gate=gate,
        mode=mode,
        judge_id=judge_id,
        ruler_hash=ruler_hash,
        verdicts=verdicts,
        dimension_means=means,
        wins=counts["W"],
        ties=counts["T"],
        losses=counts["L"],
        quality=quality(means, counts["W"], counts["T"], counts["L"], mode),
        interval=bootstrap_interval(list(per_case.values())),
        per_case_quality=per_case,
    )


def evaluate(
    candidates: dict[str, str],
    gate: str,
    judge,
    mode: JudgeMode = "standard",
    *,
    ruler: Ruler | None = None,
    baseline: GateResult | None = None,
    progress: Callable[[int, int], None] | None = None,
    cache: VerdictCache | None = None,
    only: Collection[str] | None = None,
) -> GateResult:
    """Judge `candidates` (case id -> raw candidate text) on `gate` (on its cases in `only`
    when given: a gate stopped early); see the module docstring."""
    ruler = ruler or load_ruler()
    ruler_hash = ruler.verify()
    cases = [c for c in ruler.gate_cases(gate) if only is None or c.id in only]
    started, calls_before = time.perf_counter(), judge.calls
    found: dict[str, Verdict] = {}
    todo: list[tuple[Case, str]] = []
    for case in cases:
        text = candidates.get(case.id, "")
        hit = (
            cache.get(verdict_key(judge.judge_id, ruler_hash, mode, case.id, text))
            if cache
            else None
        )
        if hit is not None:
            found[case.id] = hit.model_copy(update={"cached": True})
        else:
            todo.append((case, text))
    if progress:
        progress(len(found), len(cases))
    fresh = _judge_missing(judge, todo, mode, progress, len(found), len(cases))
    for (case, text), verdict in zip(todo, fresh, strict=True):
        found[case.id] = verdict
        if cache is not None:
            cache.put(verdict_key(judge.judge_id, ruler_hash, mode, case.id, text), verdict)
    result = summarize([found[c.id] for c in cases], gate, mode, judge.judge_id, ruler_hash)
    result.judge_seconds = time.perf_counter() - started
    result.judge_cost_usd = sum(v.cost_usd for v in fresh)
    result.judge_calls = judge.calls - calls_before
    if baseline is not None:
        result.comparison = compare(result, baseline)
    return result


def position_consistency(result: GateResult) -> float:
    """Share of verdicts whose pairwise answer did not flip with the order of the sets."""
    n = len(result.verdicts)
    return sum(v.position_consistent for v in result.verdicts) / n if n else 1.0
