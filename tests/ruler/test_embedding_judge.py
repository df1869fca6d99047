"""The offline EmbeddingJudge (real MiniLM): calibrated on gold, deterministic, batched."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from models.backends.fake import planner_answer
from models.base import Message
from ruler.gates import evaluate
from ruler.judges import EmbeddingJudge, get_judge
from ruler.judges.embedding import compound_load
from ruler.loader import load_ruler
from ruler.plan import render_plan

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ruler():
    return load_ruler()


@pytest.fixture(scope="module")
def judge():
    return EmbeddingJudge()


def fake_plan(task: str) -> str:
    return planner_answer([Message(role="user", content=f"Task: {task}")])


def test_gold_plans_score_high_and_tie(ruler, judge):
    cases = list(ruler.cases.values())
    verdicts = judge.judge_many([(c, render_plan(c.gold)) for c in cases])
    scores = Counter(s for v in verdicts for s in v.scores.values())
    assert (scores[4] + scores[5]) / sum(scores.values()) >= 0.95
    assert all(v.outcome == "T" for v in verdicts)


def test_generic_plans_score_clearly_lower(ruler, judge):
    cases = list(ruler.cases.values())
    gold = judge.judge_many([(c, render_plan(c.gold)) for c in cases])
    fake = judge.judge_many([(c, fake_plan(c.task)) for c in cases])
    mean = lambda vs: sum(sum(v.scores.values()) / 5 for v in vs) / len(vs)  # noqa: E731
    assert mean(gold) - mean(fake) >= 1.5
    assert all(v.outcome == "L" for v in fake)


def test_deterministic_and_batch_equals_single(ruler, judge):
    case = ruler.cases["c05"]
    text = fake_plan(case.task)
    one = judge.judge(case, text)
    many = judge.judge_many([(case, text), (ruler.cases["c06"], text)])[0]
    assert one.scores == many.scores == EmbeddingJudge().judge(case, text).scores
    assert one.rationale == many.rationale


def test_unparseable_and_coverage_blind(ruler, judge):
    case = ruler.cases["c01"]
    worst = judge.judge(case, "Sorry, I can't do that.")
    assert worst.outcome == "L" and set(worst.scores.values()) == {1}
    blind = judge.judge(case, render_plan(case.gold), "coverage-blind")
    assert "coverage" not in blind.scores and blind.mode == "coverage-blind"
    assert get_judge("offline").judge_id == judge.judge_id


def test_compound_signals():
    assert compound_load("Which dates are you planning, and who is coming?") == 1.0
    assert compound_load("When do you leave? Where do you stay?") == 1.0
    assert compound_load("What written records, like letters, do you already have?") == 0.0
    assert compound_load("Do you prefer beaches or museums?") == 0.0


def test_full_gate_offline_is_fast(ruler, judge):
    candidates = {c.id: fake_plan(c.task) for c in ruler.gate_cases("full-30")}
    judge.judge_many([(ruler.cases["c01"], render_plan(ruler.cases["c01"].gold))])  # warm load
    started = time.perf_counter()
    result = evaluate(candidates, "full-30", judge, ruler=ruler)
    seconds = time.perf_counter() - started
    print(f"full-30 offline: {seconds:.2f}s, quality {result.quality:.3f}")
    assert len(result.verdicts) == 30 and seconds < 30
