"""The keep policy's statistics: exact permutation p, screens, the decisive rule, simulation."""

from __future__ import annotations

import numpy as np
import pytest

from ruler.keep_policy import (
    RECOMMENDED_SCREEN,
    ScreenRule,
    keep,
    permutation_p,
    prob_improvement,
    screen,
    simulate,
)
from ruler.quality import bootstrap_interval

DEV = [f"c{i:02d}" for i in range(1, 11)]
FULL = [f"c{i:02d}" for i in range(1, 31)]
RECOMMENDED = RECOMMENDED_SCREEN


def noisy_judge_pool(seed: int, outputs: int = 6, noise: float = 0.08) -> dict[str, list[float]]:
    """A noisy fake judge: per case a difficulty, and each output's quality is that plus noise."""
    rng = np.random.default_rng(seed)
    return {
        cid: list(np.clip(rng.uniform(0.4, 0.8) + rng.normal(0, noise, outputs), 0, 1))
        for cid in FULL
    }


def test_permutation_p_is_exact_for_small_n():
    assert permutation_p([0.1] * 10) == pytest.approx(1 / 1024)
    assert permutation_p([0.0] * 10) == 1.0
    assert permutation_p([]) == 1.0
    # equal magnitudes, one negative: a flip is at least as good when at most one sign is -,
    # which is 1 + 10 of the 1024 assignments
    assert permutation_p([0.1] * 9 + [-0.1]) == pytest.approx(11 / 1024)


def test_permutation_p_monte_carlo_above_sixteen_cases_is_seeded():
    deltas = list(np.linspace(-0.05, 0.1, 30))
    assert permutation_p(deltas, seed=1) == permutation_p(deltas, seed=1)
    assert permutation_p(deltas) < 0.05


def test_prob_improvement_bounds():
    assert prob_improvement([0.1, 0.2, 0.3]) == 1.0
    assert prob_improvement([-0.1, -0.2]) == 0.0
    assert prob_improvement([]) == 0.0


def test_interval_screen_is_todays_rule():
    deltas = [0.0] * 9 + [0.01]
    res = screen(deltas, ScreenRule())
    assert res.statistic == bootstrap_interval(deltas, seed=0, n=2000).high
    assert res.promote  # one case up among ten: today's screen lets it through
    assert not screen(deltas, RECOMMENDED).promote  # p = 0.5


def test_candidate_screens_need_a_positive_mean():
    assert not screen([-0.01] * 10, RECOMMENDED).promote
    assert not screen([-0.01] * 10, ScreenRule(kind="bootstrap", tau=0.0)).promote
    assert screen([0.02] * 10, RECOMMENDED).promote
    assert "p=0.001" in screen([0.02] * 10, RECOMMENDED).why


def test_keep_matches_decide():
    deltas = [0.05, 0.02, -0.01, 0.04, 0.03]
    low = bootstrap_interval(deltas, seed=0, n=2000).low
    assert keep(deltas) == (low > 0)
    assert keep(deltas, min_delta=low) is False
    assert keep(deltas, policy="mean", min_delta=0.02) is True


def test_simulate_rejects_unknown_cases():
    with pytest.raises(ValueError, match="c30"):
        simulate({c: [0.5] for c in FULL[:-1]}, DEV, FULL, RECOMMENDED, experiments=1)


def test_identical_outputs_are_never_kept_nor_promoted_by_the_recommended_screen():
    pool = {c: [0.6] for c in FULL}
    res = simulate(pool, DEV, FULL, RECOMMENDED, experiments=20)
    assert res.promoted == 0 and res.kept == 0 and res.mean_cases == 10


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_aa_experiments_are_discarded_at_the_stated_rate(seed):
    pool = noisy_judge_pool(seed)
    res = simulate(pool, DEV, FULL, RECOMMENDED, experiments=300, seed=seed)
    assert res.kept <= 0.05  # stated: at most 5% false keeps per A/A experiment
    today = simulate(pool, DEV, FULL, ScreenRule(), experiments=300, seed=seed)
    assert res.mean_cases <= 0.7 * today.mean_cases  # at least 30% fewer cases than today


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_real_gain_is_kept_at_the_stated_rate(seed):
    pool = noisy_judge_pool(seed)
    res = simulate(pool, DEV, FULL, RECOMMENDED, gain=0.08, experiments=200, seed=seed)
    assert res.kept >= 0.8  # stated: a gain of 0.08 (one noise s.d.) is kept 80%+ of the time
