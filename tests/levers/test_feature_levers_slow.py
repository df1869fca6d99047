"""The schema lever on the real local model for another feature: SmolLM2 constrained by
llguidance to the review digest's JSON Schema gives answers that keep the contract."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from levers.config import AgentConfig, Decoding, LeverSpec
from levers.runner import run_agent
from ruler.loader import load_ruler
from runlog.feature_spec import feature_spec

pytestmark = pytest.mark.slow


def test_smollm2_under_the_schema_lever_keeps_the_review_digest_contract():
    ruler = load_ruler("review_digest")
    spec = feature_spec(ruler)
    config = AgentConfig(
        model="local:smollm2-135m",
        decoding=Decoding(max_tokens=220),
        levers=[LeverSpec(name="prompt"), LeverSpec(name="schema", params={"max_tokens": 400})],
    )
    cases = ruler.gate_cases(next(iter(ruler.splits)))[:2]
    runs = run_agent(config, cases, feature=spec)
    validator = Draft202012Validator(spec.output_schema)
    for run in runs:
        assert not run.failed, run.error
        assert run.answer is not None, run.text
        assert not list(validator.iter_errors(run.answer)), run.text
        [node] = [n for n in run.trace if n.kind == "inference"]
        assert node.label == "answer (json schema)"
