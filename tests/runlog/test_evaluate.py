"""Evaluating the workspace agent, or the agent at a ref, through the caches."""

from __future__ import annotations

from models.registry import get_model
from runlog.evaluate import agent_tree_hash, evaluate_workspace
from runlog.workspace import Workspace
from tests.runlog.conftest import ParseJudge, git, make_record, set_agent


def test_second_eval_of_an_unchanged_agent_makes_no_model_calls(ws: Workspace) -> None:
    judge = ParseJudge()
    first = evaluate_workspace(ws, gate="dev-10", judge=judge)
    assert first.extra["isolated"]  # the candidate ran in the pipeline process, not here
    assert len(get_model("fake:planner").calls) == 0
    assert first.model_calls == 10 and first.cached_cases == 0
    assert first.result.gate == "dev-10" and len(first.runs) == 10
    second = evaluate_workspace(ws, gate="dev-10", judge=judge)
    assert second.model_calls == 0 and second.cached_cases == 10
    assert second.result.quality == first.result.quality
    assert [r.text for r in second.runs] == [r.text for r in first.runs]


def test_changed_agent_misses_the_cache(ws: Workspace) -> None:
    judge = ParseJudge()
    before = agent_tree_hash(ws)
    evaluate_workspace(ws, gate="dev-10", judge=judge)
    set_agent(ws, "a different agent")
    assert agent_tree_hash(ws) != before
    assert evaluate_workspace(ws, gate="dev-10", judge=judge).model_calls == 10


def test_eval_at_a_ref_reads_agent_from_git(ws: Workspace) -> None:
    judge = ParseJudge()
    set_agent(ws, "one-word agent", model="fake:echo", max_tokens=1)
    ws.commit_experiment(make_record("001", "one-word agent", "kept", 0.1))
    set_agent(ws, "planner agent")  # uncommitted work-tree change, left alone
    at_ref = evaluate_workspace(ws, ref="exp/001", gate="dev-10", judge=judge)
    assert at_ref.model_id == "fake:echo" and at_ref.tree_hash == agent_tree_hash(ws, "exp001")
    assert at_ref.result.losses == 10  # one word is no plan
    assert "planner agent" in ws.agent_path.read_text()
    assert "agent/agent.toml" in git(ws, "status", "--porcelain")
    here = evaluate_workspace(ws, gate="dev-10", judge=judge)
    assert here.model_id == "fake:planner" and here.result.losses == 0
    assert here.outputs()[0].verdicts and here.trace


def test_result_compares_with_the_current_best(ws: Workspace) -> None:
    judge = ParseJudge()
    best = evaluate_workspace(ws, gate="dev-10", judge=judge)
    record = make_record("001", "baseline", "kept", None)
    ws.commit_experiment(record.model_copy(update={"gates": [best.result]}))
    set_agent(ws, "one word", max_tokens=1)
    worse = evaluate_workspace(ws, gate="dev-10", judge=judge)
    assert worse.result.comparison is not None
    assert worse.result.comparison.delta < 0 and not worse.check("delta > 0")
