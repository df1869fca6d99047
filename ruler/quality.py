"""The quality figure (0-1), per-case quality, paired bootstrap intervals and the sign test.

quality = 0.5 * (mean of the mode's dimension means - 1) / 4 + 0.5 * (W + T/2) / N
(standard mode: every rubric dimension, the planner's five or a feature's; coverage-blind:
the same without a dimension named coverage). The lock
records QUALITY_FORMULA_VERSION, so changing this formula invalidates frozen rulers.
"""

from __future__ import annotations

from math import comb

import numpy as np

from ruler.records import Comparison, GateResult, Interval, JudgeMode, Verdict, dimensions_for

OUTCOME_CREDIT = {"W": 1.0, "T": 0.5, "L": 0.0}


def rubric_part(means: dict[str, float], mode: JudgeMode) -> float:
    """The rubric half of quality: the mean of the mode's dimensions, over 1-5, as 0-1. The
    dimensions are the rubric's whose means are given (the planner's five, or a feature's)."""
    dims = dimensions_for(mode, tuple(means))
    return (sum(means[d] for d in dims) / len(dims) - 1.0) / 4.0


def quality(
    dimension_means: dict[str, float],
    wins: int,
    ties: int,
    losses: int,
    mode: JudgeMode = "standard",
) -> float:
    n = wins + ties + losses
    pairwise = (wins + ties / 2) / n if n else 0.0
    return 0.5 * rubric_part(dimension_means, mode) + 0.5 * pairwise


def per_case_quality(verdict: Verdict) -> float:
    """The same formula on one case; the mean over a gate's cases equals the gate quality."""
    means = {d: float(s) for d, s in verdict.scores.items()}
    return 0.5 * rubric_part(means, verdict.mode) + 0.5 * OUTCOME_CREDIT[verdict.outcome]


def _percentile_interval(samples: np.ndarray, level: float) -> Interval:
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(samples, [tail, 100 - tail])
    return Interval(low=float(low), high=float(high), level=level)


def bootstrap_interval(
    per_case: list[float], seed: int = 0, n: int = 2000, level: float = 0.95
) -> Interval:
    """Percentile bootstrap of the mean, resampling cases with a seeded generator."""
    values = np.asarray(per_case, dtype=float)
    if values.size == 0:
        return Interval(low=0.0, high=0.0, level=level)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, values.size, size=(n, values.size))
    return _percentile_interval(values[idx].mean(axis=1), level)


def sign_test(wins: int, losses: int) -> float:
    """Exact two-sided binomial sign test (ties dropped); p = 1 when nothing differs."""
    n = wins + losses
    if n == 0:
        return 1.0
    k = min(wins, losses)
    tail = sum(comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def compare(result: GateResult, baseline: GateResult, seed: int = 0, n: int = 2000) -> Comparison:
    """Paired comparison on the cases both results share: delta interval and sign test."""
    shared = [cid for cid in result.per_case_quality if cid in baseline.per_case_quality]
    deltas = {cid: result.per_case_quality[cid] - baseline.per_case_quality[cid] for cid in shared}
    values = list(deltas.values())
    wins = sum(d > 1e-12 for d in values)
    losses = sum(d < -1e-12 for d in values)
    return Comparison(
        baseline_quality=baseline.quality,
        delta=float(np.mean(values)) if values else 0.0,
        interval=bootstrap_interval(values, seed=seed, n=n),
        wins=wins,
        losses=losses,
        ties=len(values) - wins - losses,
        sign_test_p=sign_test(wins, losses),
        per_case_delta=deltas,
    )
