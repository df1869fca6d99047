"""evaluate(): verdicts, W/T/L, quality with an interval, comparison, and the verdict cache."""

from __future__ import annotations

import json

import pytest

from models import get_model
from ruler.cache import VerdictCache, verdict_key
from ruler.gates import evaluate, position_consistency
from ruler.judges import get_judge
from ruler.judges.base import worst_verdict
from ruler.loader import RulerError, load_ruler
from ruler.plan import render_plan
from ruler.records import Verdict, dimensions_for

RUBRIC = json.dumps(
    {
        "scores": {
            "atomicity": 5,
            "specificity": 4,
            "coverage": 4,
            "naturalness": 5,
            "non_redundancy": 5,
        },
        "rationale": "fine",
    }
)
TIE = json.dumps({"winner": "tie", "rationale": "close"})


class CountingJudge:
    """A deterministic stand-in judge: scores by question count, counts its calls."""

    judge_id = "counting"

    def __init__(self) -> None:
        self.calls = 0

    def judge(self, case, text, mode="standard"):
        return self.judge_many([(case, text)], mode)[0]

    def judge_many(self, pairs, mode="standard"):
        out = []
        for case, text in pairs:
            self.calls += 1
            if not text:
                out.append(worst_verdict(case, self.judge_id, mode))
                continue
            good = text == render_plan(case.gold)
            scores = {d: 5 if good else 3 for d in dimensions_for(mode)}
            out.append(
                Verdict(
                    case_id=case.id,
                    judge_id=self.judge_id,
                    mode=mode,
                    scores=scores,
                    outcome="T" if good else "L",
                )
            )
        return out


@pytest.fixture
def ruler():
    return load_ruler()


def gold_answers(ruler, gate):
    return {c.id: render_plan(c.gold) for c in ruler.gate_cases(gate)}


def test_evaluate_summarizes_a_gate(ruler):
    candidates = gold_answers(ruler, "dev-10")
    first = next(iter(candidates))
    candidates[first] = "Title: x\n1. Something else entirely about it?"
    result = evaluate(candidates, "dev-10", CountingJudge(), ruler=ruler)
    assert len(result.verdicts) == 10 and (result.wins, result.ties, result.losses) == (0, 9, 1)
    assert result.ruler_hash == ruler.lock_hash and result.judge_calls == 10
    assert result.dimension_means["atomicity"] == pytest.approx((9 * 5 + 3) / 10)
    assert result.interval.low <= result.quality <= result.interval.high
    assert sum(result.per_case_quality.values()) / 10 == pytest.approx(result.quality)


def test_missing_candidate_is_judged_worst(ruler):
    result = evaluate({}, "dev-10", CountingJudge(), ruler=ruler)
    assert result.losses == 10 and result.quality == 0.0


def test_unknown_gate_lists_known_ones(ruler):
    with pytest.raises(RulerError, match="dev-10, full-30"):
        evaluate({}, "dev-99", CountingJudge(), ruler=ruler)


def test_baseline_comparison(ruler):
    base = evaluate({}, "dev-10", CountingJudge(), ruler=ruler)
    result = evaluate(
        gold_answers(ruler, "dev-10"), "dev-10", CountingJudge(), ruler=ruler, baseline=base
    )
    assert result.comparison is not None and result.comparison.wins == 10
    assert result.comparison.delta == pytest.approx(result.quality - base.quality)
    assert result.comparison.sign_test_p < 0.01


def test_progress_reports_every_case(ruler):
    seen = []
    evaluate({}, "full-30", CountingJudge(), ruler=ruler, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (30, 30)


def test_rejudging_identical_output_makes_zero_calls(ruler, tmp_path):
    fake = get_model("fake:judge")
    fake.enqueue(*[RUBRIC, TIE, TIE] * 10)
    judge = get_judge("fake:judge")
    cache = VerdictCache(tmp_path / "verdicts.sqlite")
    candidates = gold_answers(ruler, "dev-10")
    first = evaluate(candidates, "dev-10", judge, ruler=ruler, cache=cache)
    assert first.judge_calls == 30 and len(fake.calls) == 30 and len(cache) == 10
    assert position_consistency(first) == 1.0
    again = evaluate(
        candidates,
        "dev-10",
        get_judge("fake:judge"),
        ruler=ruler,
        cache=VerdictCache(tmp_path / "verdicts.sqlite"),
    )
    assert again.judge_calls == 0 and len(fake.calls) == 30
    assert all(v.cached for v in again.verdicts) and again.quality == first.quality


def test_cache_key_parts(ruler):
    case, text = ruler.cases["c01"], render_plan(ruler.cases["c01"].gold)
    key = verdict_key("j", "h", "standard", case.id, text)
    assert key == verdict_key("j", "h", "standard", case.id, json.dumps(json.loads(text), indent=2))
    for changed in (
        ("k", "h", "standard", case.id),
        ("j", "g", "standard", case.id),
        ("j", "h", "coverage-blind", case.id),
        ("j", "h", "standard", "c02"),
    ):
        assert verdict_key(*changed, text) != key
    assert verdict_key("j", "h", "standard", case.id, text.replace("Paris", "Rome")) != key
