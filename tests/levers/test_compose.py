"""Levers compose: what earlier levers put in the context reaches every call of later ones."""

from __future__ import annotations

import random

import pytest

from levers.builtin.rag import rank_pool
from levers.config import AgentConfig, LeverSpec
from levers.pool import training_pool
from levers.runner import run_agent
from models.registry import get_model
from ruler.loader import load_ruler

NEW_LEVERS = [
    ("multi_call", {"mode": "decompose"}),
    ("multi_call", {"mode": "overgenerate"}),
    ("info_gain", {}),
    ("answer_simulation", {"k": 2}),
    ("ensemble", {"k": 2, "vary": "instruction"}),
    ("schema", {}),
]


def stack(generator: str, params: dict) -> list[LeverSpec]:
    return [
        LeverSpec(name="rag", params={"k": 2}),
        LeverSpec(name="prompt", params={"system": "planner", "few_shot": 1, "few_shot_seed": 3}),
        LeverSpec(name=generator, params=params),
        LeverSpec(name="verify", params={"checker": "model"}),
        LeverSpec(name="self_critique"),
    ]


def shown_titles(task: str) -> tuple[list[str], str]:
    """The titles of the two retrieved cases and of the one few-shot case."""
    pool = training_pool()
    retrieved = [pool[i].gold.title for i in rank_pool(task, "embedding")[:2]]
    shuffled = list(pool)
    random.Random(3).shuffle(shuffled)
    return retrieved, shuffled[0].gold.title


@pytest.mark.parametrize(("generator", "params"), NEW_LEVERS)
def test_every_call_sees_system_few_shot_and_retrieved_examples(generator, params):
    [case] = load_ruler().gate_cases("dev-10")[:1]
    model = get_model("fake:planner")
    model.calls.clear()
    config = AgentConfig(model="fake:planner", levers=stack(generator, params))
    [r] = run_agent(config, [case])
    assert not r.failed, r.error
    assert len(r.parsed.plan.questions) == 7
    retrieved, few_shot = shown_titles(case.task)
    labels = {n.label for n in r.trace if n.kind == "inference"}
    assert {"critique 1", "revise 1"} <= labels
    assert len(model.calls) == sum(n.kind == "inference" for n in r.trace) >= 4
    for messages in model.calls:
        text = "\n".join(m.content for m in messages)
        assert messages[0].role == "system" and "discovery planner" in messages[0].content
        assert all(title in text for title in retrieved), messages[-1].content[:80]
        assert few_shot in text


def test_with_instruction_keeps_the_context_and_replaces_only_the_request():
    [case] = load_ruler().gate_cases("dev-10")[:1]
    model = get_model("fake:planner")
    model.calls.clear()
    config = AgentConfig(model="fake:planner", levers=stack("multi_call", {"mode": "decompose"}))
    run_agent(config, [case])
    listing, question = model.calls[0], model.calls[1]
    assert listing[:-1] == question[:-1]
    assert [m.role for m in listing] == ["system"] + ["user", "assistant"] * 3 + ["user"]
    assert "most important things you do not know" in listing[-1].content
    assert "Write one short, friendly question" in question[-1].content
