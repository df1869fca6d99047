"""The offline researcher: coordinate search, no repeats, lever files, notes, plateau."""

from __future__ import annotations

import ast
import copy

from levers.config import BASELINE_AGENT
from levers.feature import PLANNER
from orchestrator.researchers.base import ExperimentSummary, LogView, apply_patch
from orchestrator.researchers.heuristic import (
    HeuristicResearcher,
    canonical,
    moves_for,
    preferences,
)

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
    for _ in range(len(moves_for(PLANNER))):
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


def test_a_focus_adapter_note_asks_for_training_without_waiting_for_a_plateau():
    researcher = HeuristicResearcher(plateau_after=100)
    assert researcher.propose(log_with(BASE), []).training_request is None
    proposal = researcher.propose(log_with(BASE), ["focus adapter"])
    assert proposal.training_request is not None and proposal.lever_class == "adapter-sft"
    assert proposal.training_request.rationale.startswith("Asked for: the supervisor's note")
    # a note given earlier in the run still counts; once asked, only a grant asks again
    earlier = log_with(BASE, notes_history=["focus training"])
    assert researcher.propose(earlier, []).training_request is not None
    asked = log_with(BASE, notes_history=["focus training"], training_requests=1)
    assert researcher.propose(asked, []).training_request is None
    granted = asked.model_copy(update={"trainings_granted": 1})
    assert researcher.propose(granted, []).training_request is not None
    # a later `avoid adapter` withdraws it
    assert researcher.propose(earlier, ["avoid adapter"]).training_request is None


def test_a_new_adapter_is_tried_next():
    log = log_with(BASE, adapters=[{"hash": "ab" * 32, "kind": "sft"}])
    proposal = HeuristicResearcher().propose(log, [])
    assert proposal.lever_class == "adapter-sft"
    assert {"name": "adapter", "params": {"adapter": "ab" * 32}} in proposal.agent_patch["levers"]
    orpo = {"hash": "cd" * 32, "kind": "orpo", "lever_class": "adapter-orpo-on-policy"}
    proposal = HeuristicResearcher().propose(log_with(BASE, adapters=[orpo]), [])
    assert proposal.lever_class == "adapter-orpo-on-policy"


def test_within_a_training_grant_each_request_trains_the_next_recipe():
    researcher = HeuristicResearcher()
    adapter = {"hash": "ab" * 32, "kind": "sft"}
    with_adapter = apply_patch(
        BASE, {"levers": [*BASE["levers"], {"name": "adapter", "params": {"adapter": "ab" * 32}}]}
    )
    tried = log_with(BASE, with_adapter, adapters=[adapter], training_requests=1)
    # no grant: one request per plateau, so the search goes on with prompt-level moves
    assert researcher.propose(tried, []).training_request is None
    granted = tried.model_copy(update={"trainings_granted": 2})
    proposal = researcher.propose(granted, [])
    request = proposal.training_request
    assert request is not None and (request.kind, request.steps) == ("sft", 120)
    assert "twice the steps" in proposal.hypothesis and "120 steps, rank 8" in proposal.method
    names = [
        researcher.recipe(granted.model_copy(update={"adapters": [adapter] * i}))[0]
        for i in range(7)
    ]
    assert len(set(names)) == 7  # seven distinct recipes before any repeats
    orpo = researcher.recipe(granted.model_copy(update={"adapters": [adapter] * 4}))[1]
    assert (orpo.kind, orpo.pairs) == ("orpo", "on-policy")
    # each request's class is the seed report's row it will fill
    classes = [
        researcher.propose(granted.model_copy(update={"adapters": [adapter] * i}), []).lever_class
        for i in (1, 3, 4)
    ]
    assert classes == ["adapter-sft", "adapter-orpo-style", "adapter-orpo-on-policy"]


def stacked(agent: dict) -> set[str]:
    return {s["name"] for s in agent.get("levers", []) if s.get("enabled", True)}


def test_winners_that_were_not_kept_are_stacked_onto_the_best_at_a_plateau():
    planner = moves_for(PLANNER)
    rag, info_gain, penalty = planner[1], planner[2], planner[3]

    def tried(move, delta: float, i: int) -> ExperimentSummary:
        agent = move.apply(copy.deepcopy(BASE))
        return ExperimentSummary(
            id=f"{i:03d}",
            status="discarded",
            lever_class=move.lever_class,
            hypothesis="h",
            agent=agent,
            delta=delta,
        )

    baseline = ExperimentSummary(
        id="001", status="kept", lever_class="baseline", hypothesis="b", agent=BASE
    )
    experiments = [
        baseline,
        tried(rag, 0.02, 2),
        tried(info_gain, 0.03, 3),
        tried(penalty, -0.01, 4),
    ]
    log = LogView(experiments=experiments, best_id="001", best_agent=BASE, since_last_kept=3)
    [first] = HeuristicResearcher(plateau_after=3).propose_batch(log, [], 2)  # one stack only
    # the two winners together first; the penalty lost alone, so it is in no stack
    assert stacked(apply_patch(BASE, first.agent_patch)) >= {"rag", "info_gain"}
    assert "decoding" not in stacked(apply_patch(BASE, first.agent_patch))
    assert first.hypothesis.startswith("Stacking what worked alone")
    assert "+0.030, +0.020" in first.method
    assert first.predicted_delta == 0.03  # the largest single gain: gains do not add up
    assert first.predicted_seconds is None  # the best's seconds were not measured here
    done = [
        *experiments,
        ExperimentSummary(
            id="005",
            status="discarded",
            lever_class="rag",
            hypothesis="s",
            agent=apply_patch(BASE, first.agent_patch),
            delta=0.01,
        ),
    ]
    after = log.model_copy(update={"experiments": done, "since_last_kept": 4})
    assert HeuristicResearcher(plateau_after=3).propose(after, []).training_request is not None
