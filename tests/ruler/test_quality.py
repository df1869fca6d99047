"""The quality formula, the seed table's figures, per-case quality, bootstrap and sign test."""

from __future__ import annotations

import itertools

import pytest

from ruler.gates import summarize
from ruler.quality import bootstrap_interval, compare, per_case_quality, quality, sign_test
from ruler.records import DIMENSIONS, Verdict


def means(*values: float) -> dict[str, float]:
    return dict(zip(DIMENSIONS, values, strict=True))


def rounding_range(values, w, t, l):  # noqa: E741
    """Quality over every true mean that rounds to the printed integer rubric."""
    qs = [
        quality(means(*(v + d for v, d in zip(values, deltas, strict=True))), w, t, l)
        for deltas in itertools.product((-0.5, 0.49), repeat=5)
    ]
    return min(qs), max(qs)


def test_seed_report_gold_model_row():
    q = quality(means(5, 4, 4, 5, 5), 4, 18, 8)
    assert q == pytest.approx(0.5 * 3.6 / 4 + 0.5 * 13 / 30)
    assert abs(q - 0.65) < 0.02
    low, high = rounding_range((5, 4, 4, 5, 5), 4, 18, 8)
    assert low <= 0.65 <= high


def test_seed_report_on_device_row():
    q = quality(means(4, 4, 3, 4, 4), 2, 5, 22)
    assert 0.425 <= q <= 0.445
    low, high = rounding_range((4, 4, 3, 4, 4), 2, 5, 22)
    assert low <= 0.44 <= high


def test_coverage_blind_drops_coverage():
    m = means(5, 5, 1, 5, 5)
    assert quality(m, 0, 10, 0, "coverage-blind") == pytest.approx(0.5 + 0.25)
    assert quality(m, 0, 10, 0, "standard") < quality(m, 0, 10, 0, "coverage-blind")


def verdict(case_id: str, scores, outcome: str, mode="standard") -> Verdict:
    dims = [d for d in DIMENSIONS if mode == "standard" or d != "coverage"]
    return Verdict(
        case_id=case_id,
        judge_id="t",
        mode=mode,
        scores=dict(zip(dims, scores, strict=True)),
        outcome=outcome,
    )


def test_per_case_quality_means_equal_gate_quality():
    verdicts = [
        verdict("a", (5, 4, 4, 5, 5), "W"),
        verdict("b", (3, 2, 1, 4, 5), "L"),
        verdict("c", (4, 4, 3, 4, 4), "T"),
        verdict("d", (1, 1, 1, 1, 1), "L"),
    ]
    result = summarize(verdicts, "g", "standard", "t", "h")
    assert sum(result.per_case_quality.values()) / 4 == pytest.approx(result.quality)
    assert per_case_quality(verdicts[0]) == pytest.approx(0.5 * 3.6 / 4 + 0.5)
    blind = [
        verdict("a", (5, 4, 5, 5), "T", "coverage-blind"),
        verdict("b", (2, 2, 2, 2), "L", "coverage-blind"),
    ]
    result = summarize(blind, "g", "coverage-blind", "t", "h")
    assert sum(result.per_case_quality.values()) / 2 == pytest.approx(result.quality)


def test_bootstrap_is_seeded_and_brackets_the_mean():
    values = [0.2, 0.4, 0.9, 0.5, 0.6, 0.1, 0.7, 0.3]
    a, b = bootstrap_interval(values, seed=3), bootstrap_interval(values, seed=3)
    assert a == b and a.level == 0.95
    assert a.low < sum(values) / len(values) < a.high
    assert bootstrap_interval([0.5] * 5).low == pytest.approx(0.5)


def test_sign_test_exact():
    assert sign_test(0, 0) == 1.0
    assert sign_test(10, 0) == pytest.approx(2 / 2**10)
    assert sign_test(5, 5) == 1.0
    assert sign_test(8, 2) == pytest.approx(2 * (1 + 10 + 45) / 1024)


def test_compare_is_paired_case_by_case():
    base = summarize(
        [verdict(c, (3, 3, 3, 3, 3), "L") for c in "abcdefgh"], "g", "standard", "t", "h"
    )
    better = summarize(
        [verdict(c, (4, 4, 4, 4, 4), "T") for c in "abcdefgh"], "g", "standard", "t", "h"
    )
    cmp = compare(better, base)
    assert cmp.delta == pytest.approx(better.quality - base.quality)
    assert cmp.wins == 8 and cmp.losses == 0 and cmp.sign_test_p < 0.01
    assert cmp.interval.low == pytest.approx(cmp.delta) and set(cmp.per_case_delta) == set(
        "abcdefgh"
    )
