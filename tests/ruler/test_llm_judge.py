"""LLMJudge on the scripted fake model and on the anthropic backend over httpx2.MockTransport."""

from __future__ import annotations

import json

import httpx2
import pytest

from models import GenerationOptions, get_model
from ruler.judges import LLMJudge, get_judge, llm_judge
from ruler.loader import load_ruler
from ruler.plan import render_plan
from tests.anthropic_mock import mock_model, text_response

GOOD = json.dumps(
    {
        "scores": {
            "atomicity": 5,
            "specificity": 4,
            "coverage": 3,
            "naturalness": 5,
            "non_redundancy": 4,
        },
        "rationale": "misses the budget",
    }
)
BLIND = json.dumps(
    {
        "scores": {"atomicity": 4, "specificity": 4, "naturalness": 4, "non_redundancy": 4},
        "rationale": "ok",
    }
)


def pick(winner: str) -> str:
    return json.dumps({"winner": winner, "rationale": f"{winner} is better"})


@pytest.fixture
def case():
    return load_ruler().cases["c01"]


@pytest.fixture
def fake():
    return get_model("fake:judge")


def test_get_judge_builds_an_llm_judge(fake):
    judge = get_judge("fake:judge")
    assert isinstance(judge, LLMJudge) and judge.judge_id == "llm:fake:judge/c1"


def test_agreeing_orders_give_that_outcome(fake, case):
    fake.enqueue(GOOD, pick("A"), pick("B"))  # candidate is A first, then B: it wins both
    verdict = get_judge("fake:judge").judge(case, render_plan(case.gold))
    assert verdict.outcome == "W" and verdict.position_consistent
    assert verdict.scores["coverage"] == 3 and "budget" in verdict.rationale
    assert len(fake.calls) == 3


def test_disagreeing_orders_are_a_tie(fake, case):
    fake.enqueue(GOOD, pick("A"), pick("A"))  # always prefers the first set: position bias
    verdict = get_judge("fake:judge").judge(case, render_plan(case.gold))
    assert verdict.outcome == "T" and not verdict.position_consistent
    assert len(fake.calls) == 3


def test_both_orders_are_asked(fake, case):
    fake.enqueue(GOOD, pick("B"), pick("A"))
    candidate = "Title: X\n1. " + "\n".join(
        f"{i}. Unique question {i} about Paris?" for i in range(1, 8)
    )
    verdict = get_judge("fake:judge").judge(case, candidate)
    assert verdict.outcome == "L"
    first, second = (m[1].content for m in fake.calls[1:])
    assert first.index("Unique question") < first.index(case.gold.questions[0])
    assert second.index(case.gold.questions[0]) < second.index("Unique question")


def test_malformed_output_retries_once_then_is_neutral(fake, case):
    fake.enqueue("not json", "still not json", pick("tie"), "{bad", "{bad")
    verdict = get_judge("fake:judge").judge(case, render_plan(case.gold))
    assert set(verdict.scores.values()) == {3}
    assert verdict.outcome == "T" and not verdict.position_consistent
    assert "malformed" in verdict.rationale
    assert len(fake.calls) == 5


def test_retry_recovers(fake, case):
    fake.enqueue("oops", GOOD, pick("tie"), pick("tie"))
    verdict = get_judge("fake:judge").judge(case, render_plan(case.gold))
    assert (
        verdict.scores["atomicity"] == 5 and verdict.outcome == "T" and verdict.position_consistent
    )
    assert len(fake.calls) == 4


def test_unparseable_candidate_is_worst_without_calls(fake, case):
    verdict = get_judge("fake:judge").judge(case, "I cannot help with that")
    assert verdict.outcome == "L" and set(verdict.scores.values()) == {1}
    assert fake.calls == []


def test_coverage_blind_prompts_drop_coverage(fake, case):
    fake.enqueue(BLIND, pick("tie"), pick("tie"))
    verdict = get_judge("fake:judge").judge(case, render_plan(case.gold), "coverage-blind")
    assert "coverage" not in verdict.scores
    rubric_prompt = fake.calls[0][0].content
    assert "- coverage (" not in rubric_prompt and "- atomicity (" in rubric_prompt
    assert "ignore coverage" in fake.calls[1][0].content


class Recording:
    """A ChatModel wrapper that records the options of every call."""

    def __init__(self, inner):
        self.inner, self.model_id, self.options = inner, inner.model_id, []

    def generate(self, messages, options: GenerationOptions):
        self.options.append(options)
        return self.inner.generate(messages, options)

    def generate_batch(self, batch, options):
        return [self.generate(m, options) for m in batch]


def test_calls_use_json_schema_at_temperature_zero(fake, case):
    fake.enqueue(GOOD, pick("A"), pick("B"))
    model = Recording(fake)
    llm_judge(model).judge(case, render_plan(case.gold))
    assert all(o.temperature == 0 and o.json_schema for o in model.options)
    assert "scores" in model.options[0].json_schema["properties"]
    assert model.options[1].json_schema["properties"]["winner"]["enum"] == ["A", "B", "tie"]


def anthropic_judge(answers: list[str], seen: list[dict]) -> LLMJudge:
    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(json.loads(request.content))
        return text_response(answers[len(seen) - 1], input_tokens=1000, output_tokens=50)

    return llm_judge(mock_model(handler, max_retries=0))


def test_anthropic_judge_makes_two_pairwise_calls_and_ties_on_disagreement(case):
    seen: list[dict] = []
    judge = anthropic_judge([GOOD, pick("A"), pick("A")], seen)
    verdict = judge.judge(case, render_plan(case.gold))
    assert len(seen) == 3 and judge.calls == 3
    assert verdict.outcome == "T" and not verdict.position_consistent
    assert all(body["output_config"]["format"]["type"] == "json_schema" for body in seen)
    assert verdict.cost_usd > 0
