"""The offline researcher: coordinate search, no repeats, lever files, notes, plateau."""

from __future__ import annotations

import ast

from levers.config import BASELINE_AGENT
from orchestrator.researchers.base import ExperimentSummary, LogView, apply_patch
from orchestrator.researchers.heuristic import HeuristicResearcher, canonical, preferences

BASE = BASELINE_AGENT.model_dump()


def log_with(*agents: dict, since_last_kept: int = 0, **kw) -> LogView:
    experiments = [
        ExperimentSummary(
            id=f"{i:03d}",
            status="kept" if i == 1 else "discarded",
            lever_class="prompt",
            hypothesis="h",
            agent=a,
        )
        for i, a in enumerate(agents, 1)
    ]
    return LogView(
        experiments=experiments,
        best_id="001",
        best_agent=BASE,
        since_last_kept=since_last_kept,
        **kw,
    )


def test_first_proposal_is_the_baseline():
    proposal = HeuristicResearcher().propose(LogView(), [])
    assert proposal.lever_class == "baseline" and proposal.agent_patch == {}


def test_never_repeats_a_configuration_already_tried():
    researcher = HeuristicResearcher(plateau_after=100)
    agents = [BASE]
    for _ in range(8):
        proposal = researcher.propose(log_with(*agents), [])
        agent = apply_patch(BASE, proposal.agent_patch)
        assert canonical(agent) not in {canonical(a) for a in agents}
        agents.append(agent)


def test_prompt_phrasings_are_written_as_real_lever_modules():
    researcher = HeuristicResearcher(plateau_after=100)
    agents = [BASE]
    written = []
    for _ in range(10):
        proposal = researcher.propose(log_with(*agents), [])
        agents.append(apply_patch(BASE, proposal.agent_patch))
        if proposal.lever_code:
            written.append(proposal)
    assert written, "no prompt variant was written as a lever file"
    module = ast.parse(written[0].lever_code)
    assert any(isinstance(n, ast.ClassDef) for n in module.body)
    lever_name = written[0].lever_filename.removesuffix(".py")
    assert any(spec["name"] == lever_name for spec in written[0].agent_patch["levers"])


def test_focus_and_avoid_notes_steer_the_search():
    researcher = HeuristicResearcher(plateau_after=100)
    assert researcher.propose(log_with(BASE), ["focus multi_call"]).lever_class == "multi_call"
    for _ in range(3):
        assert researcher.propose(log_with(BASE), ["avoid prompt"]).lever_class != "prompt"
    assert preferences(["avoid rag", "focus rag"]) == ({"rag"}, set())


def test_a_plateau_requests_training_once():
    researcher = HeuristicResearcher(plateau_after=2)
    proposal = researcher.propose(log_with(BASE, BASE, since_last_kept=2), [])
    assert proposal.training_request is not None
    assert "Plateau" in proposal.training_request.rationale
    after = researcher.propose(log_with(BASE, BASE, since_last_kept=3, training_requests=1), [])
    assert after.training_request is None


def test_a_new_adapter_is_tried_next():
    log = log_with(BASE, adapters=[{"hash": "ab" * 32, "kind": "sft"}])
    proposal = HeuristicResearcher().propose(log, [])
    assert proposal.lever_class == "adapter-sft"
    assert {"name": "adapter", "params": {"adapter": "ab" * 32}} in proposal.agent_patch["levers"]
