"""The keep policy's statistics: exact permutation p, screens, the decisive rule, simulation."""

from __future__ import annotations

import numpy as np
import pytest

from ruler.keep_policy import (
    RECOMMENDED_SCREEN,
    Futility,
    ScreenRule,
    decide,
    futile,
    keep,
    keep_chance,
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


def test_false_keep_rates_are_the_simulation_tables_per_rule():
    from ruler.keep_policy import expected_false_keeps, false_keep_rate

    assert false_keep_rate(RECOMMENDED) == 0.031
    assert false_keep_rate(ScreenRule(kind="interval", alpha=0.05, tau=0.1)) == 0.034  # unread
    assert false_keep_rate(ScreenRule(kind="permutation", alpha=0.3, tau=0.5)) == 0.031
    assert false_keep_rate(ScreenRule(kind="permutation", alpha=0.25)) is None  # not simulated
    assert expected_false_keeps(RECOMMENDED, 10) == pytest.approx(0.31)
    assert expected_false_keeps(ScreenRule(kind="bootstrap", tau=0.85), 10) is None


# --- futility: the decisive gate stops halfway when a keep has become unlikely ----------------


def test_keep_chance_follows_the_evidence_so_far():
    rng = np.random.default_rng(0)
    clear_gain = list(0.1 + rng.normal(0, 0.05, 20))
    clear_loss = list(-0.1 + rng.normal(0, 0.05, 20))
    assert keep_chance(clear_gain, 10) > 0.95
    assert keep_chance(clear_loss, 10) < 0.01
    assert keep_chance([0.0] * 20, 10) == 0.0  # an identical candidate is never kept
    assert keep_chance(clear_gain, 0) == float(keep(clear_gain))  # nothing left: the rule itself
    assert keep_chance(clear_gain, 10, policy="mean", min_delta=0.2) < 0.01


def test_futile_says_why_and_a_zero_threshold_never_stops():
    losing = [-0.05, -0.02, -0.08, 0.01, -0.04] * 4
    why = futile(losing, 10, 0.05)
    assert why.startswith("futile after 20 cases: mean gain -0.036") and "< 0.05" in why
    assert futile(losing, 10, 0.0) == ""
    assert futile([0.05, 0.08, 0.02, 0.06] * 5, 10, 0.05) == ""
    check = Futility(best={"a": 0.5, "b": 0.6}, threshold=0.05)
    assert check.check({"a": 0.2, "b": 0.3, "zz": 0.9}, 10).startswith("futile after 2 cases")


def test_a_stopped_decisive_gate_discards_and_says_so(tmp_path):
    from ruler.records import GateResult, Interval

    def result(gate: str, stopped: str = "") -> GateResult:
        return GateResult(
            gate=gate, judge_id="j", ruler_hash="r", verdicts=[], dimension_means={},
            wins=0, ties=0, losses=0, quality=0.3, interval=Interval(low=0.2, high=0.4),
            stopped=stopped,
        )  # fmt: skip

    status, why = decide(
        result("dev-10"),
        result("full-30", stopped="futile after 20 cases: ..."),
        baseline=False,
        policy="interval",
        min_delta=0.0,
    )
    assert status == "discarded" and why == "full-30 stopped early: futile after 20 cases: ..."


@pytest.mark.slow
@pytest.mark.parametrize("gain", [0.0, 0.08])
def test_futility_saves_cases_and_rarely_stops_what_would_be_kept(gain):
    pool = noisy_judge_pool(0)
    plain = simulate(pool, DEV, FULL, RECOMMENDED, gain=gain, experiments=200)
    early = simulate(pool, DEV, FULL, RECOMMENDED, gain=gain, experiments=200, futility=0.05)
    assert early.promoted == plain.promoted  # the screen is the same
    assert early.false_stops <= 0.05 * max(plain.kept, 0.2)
    assert early.kept == pytest.approx(plain.kept - early.false_stops)
    if gain == 0.0:  # A/A: a good share of the promoted experiments stop halfway (44% here)
        assert early.stopped >= 0.3 * plain.promoted and early.mean_cases < plain.mean_cases
