"""The keep policy as the loop applies it: services.promising and services.decide on gate results
judged by a noisy fake judge through ruler.gates.evaluate (issue 16, item 7).

The fake judge scores a case by its difficulty plus the agent's level plus noise, so an A/A
experiment (same level) differs from the best by noise only and a planted gain is a real one.
Over many seeds, A/A experiments must be discarded at the rate the simulation states (at most
5% false keeps), the recommended screen must stop most of them at dev-10, and a real gain must
be kept most of the time.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from orchestrator.services import decide, promising
from ruler.gates import evaluate
from ruler.keep_policy import RECOMMENDED_SCREEN, ScreenRule
from ruler.loader import load_ruler
from ruler.records import DIMENSIONS, Case, GateResult, Verdict

SEEDS = 160


class NoisyJudge:
    """Per dimension: round(1 + 4 * (difficulty + level + noise)), clipped to 1-5; a tie."""

    judge_id = "noisy-fake"

    def __init__(self, levels: dict[str, float], seed: int, noise: float = 0.12) -> None:
        self.levels, self.noise = levels, noise
        self.rng = np.random.default_rng(seed)
        self.calls = 0
        self.memo: dict[tuple[str, str], Verdict] = {}  # a case's output is judged once

    def judge_many(self, pairs: list[tuple[Case, str]], mode="standard") -> list[Verdict]:
        return [self.verdict(case, text, mode) for case, text in pairs]

    def verdict(self, case: Case, text: str, mode) -> Verdict:
        if (case.id, text) not in self.memo:
            self.calls += 1
            difficulty = 0.3 + 0.3 * (zlib.crc32(case.id.encode()) % 100) / 100
            level = difficulty + self.levels[text]
            scores = {
                d: int(np.clip(round(1 + 4 * (level + self.rng.normal(0, self.noise))), 1, 5))
                for d in DIMENSIONS
            }
            self.memo[(case.id, text)] = Verdict(
                case_id=case.id, judge_id=self.judge_id, mode=mode, scores=scores, outcome="T"
            )
        return self.memo[(case.id, text)]


@pytest.fixture(scope="module")
def ruler():
    return load_ruler("planner")


def experiment(ruler, gain: float, seed: int) -> tuple[GateResult, GateResult]:
    """The candidate's dev-10 and full-30 results, each paired with the best's (same judge)."""
    judge = NoisyJudge({"best": 0.0, "candidate": gain}, seed)
    full_cases = ruler.gate_cases("full-30")
    best = {c.id: "best" for c in full_cases}
    cand = {c.id: "candidate" for c in full_cases}
    best_dev = evaluate(best, "dev-10", judge, ruler=ruler)
    best_full = evaluate(best, "full-30", judge, ruler=ruler)
    dev = evaluate(cand, "dev-10", judge, ruler=ruler, baseline=best_dev)
    full = evaluate(cand, "full-30", judge, ruler=ruler, baseline=best_full)
    return dev, full


def run_policy(ruler, gain: float, rule: ScreenRule) -> tuple[float, float]:
    """Shares promoted to full-30 and kept over SEEDS experiments, as run_gate decides."""
    promoted = kept = 0
    for seed in range(SEEDS):
        dev, full = experiment(ruler, gain, seed)
        go = promising(dev, rule)
        promoted += go
        status, _ = decide(
            dev, full if go else None, baseline=False, policy="interval", min_delta=0.0, rule=rule
        )
        kept += status == "kept"
    return promoted / SEEDS, kept / SEEDS


def test_an_aa_experiment_is_discarded_at_the_stated_rate_and_mostly_stops_at_dev(ruler):
    promoted, kept = run_policy(ruler, 0.0, RECOMMENDED_SCREEN)
    assert kept <= 0.05 + 0.03  # simulated: 3.1% false keeps (plus binomial slack at 160)
    assert promoted <= 0.40  # simulated: 24% promoted; a one-sided p < 0.3 with mean > 0
    old_promoted, old_kept = run_policy(ruler, 0.0, ScreenRule(kind="interval"))
    assert old_promoted >= 0.8  # today's screen let nearly every A/A experiment through
    assert old_kept <= 0.08


def test_a_real_gain_is_kept_most_of_the_time(ruler):
    promoted, kept = run_policy(ruler, 0.06, RECOMMENDED_SCREEN)
    assert promoted >= 0.85
    assert kept >= 0.75


def test_decide_texts_say_which_rule_stopped_the_experiment(ruler):
    dev, _ = experiment(ruler, -0.1, 0)
    assert not promising(dev)
    status, why = decide(dev, None, baseline=False, policy="interval", min_delta=0.0)
    assert status == "discarded"
    assert "screen (mean>0 & perm p<0.3) not passed" in why and "p=" in why


def test_promising_without_a_best_and_without_stored_deltas(ruler):
    dev, _ = experiment(ruler, 0.0, 1)
    assert promising(dev.model_copy(update={"comparison": None}))  # nothing to compare: go on
    up = dev.comparison.model_copy(update={"per_case_delta": {}, "delta": 0.01})
    up = up.model_copy(update={"interval": up.interval.model_copy(update={"high": 0.02})})
    assert promising(dev.model_copy(update={"comparison": up}))  # an old record: its interval
    down = up.model_copy(update={"interval": up.interval.model_copy(update={"high": -0.01})})
    assert not promising(dev.model_copy(update={"comparison": down}))


def test_decide_keeps_on_the_decisive_gate_only_above_min_delta(ruler):
    dev, full = experiment(ruler, 0.1, 2)
    assert decide(dev, full, baseline=False, policy="interval", min_delta=0.0)[0] == "kept"
    assert decide(dev, full, baseline=False, policy="mean", min_delta=0.5)[0] == "discarded"
    assert decide(dev, None, baseline=True, policy="interval", min_delta=0.0)[0] == "kept"
