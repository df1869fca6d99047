"""A full research turn over the mocked API: a lever written, failing validation inside the
agent, repaired in the same conversation, submitted and run; budgets, caching, predictions."""

from __future__ import annotations

import pytest

from orchestrator.loop import run_loop
from runlog.views import status_view
from runlog.workspace import Workspace
from tests.orchestrator.research_mock import (
    BROKEN_IN_AGENT,
    GOOD_LEVER,
    GROUNDED_PATCH,
    Script,
    reply,
    researcher,
    submit,
    tool_use,
)
from tui.workspace_source import WorkspaceSource


@pytest.fixture
def workspace(tmp_path):
    return Workspace.init(
        tmp_path / "ws",
        model="fake:planner",
        judge="fake:judge",
        researcher="anthropic:claude-sonnet-4-6",
    ).main_root


@pytest.mark.slow
def test_a_lever_fails_in_the_agent_is_repaired_in_the_conversation_and_runs(workspace):
    script = Script(  # experiment 001 is the stock agent: the graph asks Claude for 002
        reply(tool_use("results"), tool_use("experiment", id="001"), text="Let me look."),
        reply(tool_use("read_source", path="lever:prompt")),
        reply(tool_use("write_lever", filename="grounded.py", code=BROKEN_IN_AGENT)),
        reply(tool_use("write_lever", filename="grounded.py", code=GOOD_LEVER)),
        reply(
            submit(
                "Grounding the questions in the task's words raises specificity",
                GROUNDED_PATCH,
                method="append a grounding instruction after the prompt lever",
                lever_filename="grounded.py",
                predicted_delta=0.03,
            )
        ),
    )
    claude = researcher(script)
    run_loop(workspace, experiments=2, researcher=claude)
    assert len(script.bodies) == 5
    # one conversation: every request extends the one before it
    for before, after in zip(script.bodies, script.bodies[1:], strict=False):
        assert after["messages"][: len(before["messages"])] == before["messages"]
    results, experiment = script.tool_results(1)
    assert "001" in results and '"diff"' in experiment
    assert '"input": "plan' in experiment  # each dev case's input task beside its plan
    assert "class PromptLever" in script.tool_results(2)[0]
    failed = script.tool_results(3)[0]
    assert failed.startswith("FAILED") and "inside the agent" in failed and "text" in failed
    assert "ok (grounded)" in script.tool_results(4)[0]
    # prompt caching on the fixed system prompt and the tool definitions
    assert script.bodies[0]["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert script.bodies[0]["tools"][-1]["cache_control"] == {"type": "ephemeral"}
    assert [t["name"] for t in script.bodies[0]["tools"]] == [
        "results",
        "experiment",
        "read_source",
        "notes",
        "write_lever",
        "try_agent",
        "submit",
    ]
    record = Workspace.open(workspace).record("002")
    assert record.status in ("kept", "discarded"), record.failure
    assert record.hypothesis == "Grounding the questions in the task's words raises specificity"
    assert "grounding instruction" in record.method
    assert record.predicted_delta == 0.03
    assert "levers/grounded.py" in [f.name for f in record.lever_files]
    # five calls of 900 fresh + 4000 cached-read input and 200 output tokens at Sonnet prices
    turn = 5 * (900 * 3.0 + 200 * 15.0 + 4000 * 0.30) / 1e6
    assert record.cost_usd == pytest.approx(turn, rel=1e-6)
    # the prediction beside the observation: dashboard, status, the TUI's detail pane
    ws = Workspace.open(workspace)
    assert "predicted Δ +0.030" in ws.dashboard_path.read_text()
    calibration = status_view(ws)["calibration"]
    assert calibration["n"] == 1
    observed = record.gates[0].comparison.delta
    assert calibration["mae"] == pytest.approx(abs(0.03 - observed))
    detail = WorkspaceSource(workspace).detail("002")
    assert (detail.predicted_delta, detail.observed_delta) == (0.03, observed)
    names = [line.split(":")[0] for line in claude.transcript]
    assert names == ["results", "experiment", "read_source", "write_lever", "write_lever", "submit"]
    print("\n".join(claude.transcript))


def test_the_budget_stops_a_turn_between_rounds(workspace):
    expensive = {"input_tokens": 20_000, "cache_read_input_tokens": 0}  # $0.06 + output a call
    script = Script(
        reply(tool_use("results"), **expensive),
        reply(tool_use("notes"), **expensive),
        reply(submit("never reached", {}), **expensive),
    )
    summary = run_loop(workspace, usd=0.05, researcher=researcher(script))
    assert len(script.bodies) == 1  # the second call was never sent
    record = Workspace.open(workspace).record("002")  # after the stock agent
    assert record.status == "failed"
    assert "research stopped: cost budget of $0.05 spent" in record.failure
    assert record.cost_usd == pytest.approx((20_000 * 3.0 + 200 * 15.0) / 1e6)
    assert summary.stop_reason == "cost budget of $0.05 spent"


def test_a_turn_without_submit_ends_after_the_configured_rounds(workspace):
    path = workspace / "autoresearch.toml"
    text = path.read_text()
    assert "max_tool_rounds = 12" in text  # the default, written by init
    path.write_text(text.replace("max_tool_rounds = 12", "max_tool_rounds = 2"))
    script = Script(
        reply(tool_use("results")), reply(tool_use("notes")), reply(tool_use("results"))
    )
    run_loop(workspace, experiments=2, researcher=researcher(script))
    assert len(script.bodies) == 2
    assert "This is your last tool round" in str(script.bodies[1]["messages"][-1])
    record = Workspace.open(workspace).record("002")
    assert record.status == "failed" and "no submission within 2 tool rounds" in record.failure
