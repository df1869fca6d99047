"""Every researcher's first experiment is the stock agent, so the line starts from a measured
baseline: a Claude researcher's first idea never replaces it (issue 23, attack 5)."""

from __future__ import annotations

import orchestrator.pool.plan
from orchestrator.loop import run_loop
from runlog.workspace import Workspace
from tests.orchestrator.research_mock import Script, reply, researcher, submit

IDEA = {"levers": [{"name": "prompt", "params": {"few_shot": 1}}]}


def first_two(tmp_path) -> tuple[str, str]:
    ws = Workspace.init(tmp_path / "ws", model="fake:planner", judge="fake:judge")
    script = Script(
        reply(submit("Few-shot", IDEA)), reply(submit("Shorter", {"decoding": {"max_tokens": 150}}))
    )
    run_loop(ws.root, experiments=2, researcher=researcher(script))
    reopened = Workspace.open(ws.root)
    return reopened.record("001").lever_class, reopened.record("001").hypothesis


def test_claudes_first_idea_comes_after_the_stock_agent(tmp_path):
    lever_class, hypothesis = first_two(tmp_path)
    assert lever_class == "baseline" and hypothesis.startswith("Baseline: the stock agent")


def test_without_the_rule_the_first_idea_is_the_baseline(tmp_path, monkeypatch):
    monkeypatch.setattr(
        orchestrator.pool.plan, "propose_batch", lambda r, log, notes, k: [r.propose(log, notes)]
    )
    lever_class, hypothesis = first_two(tmp_path)
    assert hypothesis == "Few-shot"  # the stock agent was never measured
