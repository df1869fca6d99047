"""What the graph refuses for every researcher: a repeat of an agent already run (back to the
researcher with the earlier id, at most twice), training a model that cannot train here (back
with the reason, no supervisor wait), and a researcher with nothing left ends the run."""

from __future__ import annotations

import copy

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from orchestrator.graph import build_graph
from orchestrator.loop import run_loop
from orchestrator.researchers.base import (
    ExperimentSummary,
    LogView,
    SearchExhausted,
    TrainingRequest,
)
from orchestrator.researchers.heuristic import HeuristicResearcher, canonical, moves
from runlog.workspace import Workspace
from tests.orchestrator.research_mock import Script, reply, researcher, submit
from tests.orchestrator.test_graph import FakeServices, ScriptedResearcher, config, proposal, run

ALL_MOVES = moves
TRAIN = TrainingRequest(kind="sft", rationale="plateau")


def test_a_repeat_goes_back_with_the_earlier_id_then_fails_after_two_retries():
    services = FakeServices(
        ScriptedResearcher([proposal("same")] * 3 + [proposal("new")]), experiments=2
    )
    services.repeats = {"same": "004"}
    run(build_graph(InMemorySaver()), {}, config(), services)
    first, second = services.recorded
    assert first["outcome"].status == "failed"
    assert "refused 3 times" in first["outcome"].failure and "004" in first["outcome"].failure
    assert [f for f in services.feedback_seen[:3]] == [
        [],
        ["refused: this agent is the one experiment 004 already ran; change it"],
        ["refused: this agent is the one experiment 004 already ran; change it"],
    ]
    assert second["proposal"].hypothesis == "new" and second["outcome"].status == "kept"


def test_a_training_request_for_a_model_that_cannot_train_goes_back_without_waiting():
    services = FakeServices(
        ScriptedResearcher([proposal("train", training_request=TRAIN), proposal("prompt it")])
    )
    services.can_train = (False, "fake:echo: the 'fake' backend has no trainable weights")
    graph = build_graph(InMemorySaver())
    run(graph, {}, config(), services)
    assert not graph.get_state(config()).interrupts  # nobody was asked
    assert services.trained == []
    assert services.feedback_seen[1] == [
        "training request refused: fake:echo: the 'fake' backend has no trainable weights"
    ]
    assert ("refused", {"request": "001", "note": services.can_train[1]}) in services.events
    assert services.recorded[0]["proposal"].hypothesis == "prompt it"


FEW = {"few_shot": 1}


def test_claude_asking_to_train_fake_echo_is_told_why_and_the_run_goes_on(tmp_path):
    ws = Workspace.init(
        tmp_path / "ws", model="fake:echo", judge="fake:judge", researcher="heuristic"
    ).main_root
    train = {"kind": "sft", "rationale": "weights, not prompts"}
    script = Script(
        reply(submit("Train an adapter", {}, lever_class="adapter", training_request=train)),
        reply(submit("Few-shot instead", {"levers": [{"name": "prompt", "params": FEW}]})),
    )
    summary = run_loop(ws, experiments=2, researcher=researcher(script), wait_for_approval=False)
    assert summary.waiting_for is None
    refused = script.tool_results(1)[0]
    assert refused.startswith("ERROR: training is not possible here: fake:echo")
    assert "trainable_here=False" in script.bodies[0]["messages"][0]["content"]
    reopened = Workspace.open(ws)
    assert reopened.record("001").lever_class == "baseline"  # the stock agent, not Claude's idea
    assert reopened.record("002").hypothesis == "Few-shot instead"


def test_claude_resubmitting_the_best_agent_is_told_which_experiment_ran_it(tmp_path):
    ws = Workspace.init(
        tmp_path / "ws", model="fake:planner", judge="fake:judge", researcher="heuristic"
    ).main_root
    few_shot = {"levers": [{"name": "prompt", "params": {"few_shot": 1}}]}
    script = Script(
        reply(submit("Baseline", {}, lever_class="baseline")),
        reply(submit("Run it again", {})),
        reply(submit("Few-shot", few_shot)),
    )
    run_loop(ws, experiments=2, researcher=researcher(script))
    assert (
        "NOT SUBMITTED: this agent is the one experiment 001 already ran"
        in (script.tool_results(2)[0])
    )
    assert Workspace.open(ws).record("002").hypothesis == "Few-shot"


def test_the_run_stops_when_the_researcher_has_nothing_left():
    class Exhausted(ScriptedResearcher):
        def propose(self, log, notes):
            raise SearchExhausted("nothing left")

    services = FakeServices(Exhausted([]), experiments=5)
    graph = build_graph(InMemorySaver())
    run(graph, {}, config(), services)
    assert services.recorded == []
    assert graph.get_state(config()).values["stop_reason"] == "search space exhausted"


def test_the_heuristic_is_exhausted_instead_of_rerunning_the_best():
    best = {"model": "fake:echo", "levers": [{"name": "prompt", "params": {}}]}

    tried = [m.apply(copy.deepcopy(best)) for m in moves()]
    log = LogView(
        experiments=[
            ExperimentSummary(
                id=f"{i:03d}", status="discarded", lever_class="prompt", hypothesis="h", agent=a
            )
            for i, a in enumerate([best, *tried], 1)
        ],
        best_id="001",
        best_agent=best,
        trainable_here=False,
        trainable_reason="fake:echo has no weights",
    )
    assert len({canonical(e.agent) for e in log.experiments}) == len(log.experiments)
    with pytest.raises(SearchExhausted):
        HeuristicResearcher().propose(log, [])


def test_a_heuristic_run_ends_with_search_space_exhausted(tmp_path, monkeypatch):
    import orchestrator.researchers.heuristic as heuristic

    monkeypatch.setattr(heuristic, "moves", lambda: ALL_MOVES()[:1])  # one move to exhaust
    ws = Workspace.init(
        tmp_path / "ws", model="fake:echo", judge="fake:judge", researcher="heuristic"
    ).main_root
    summary = run_loop(ws, experiments=5, researcher=HeuristicResearcher())
    assert [r.id for r in summary.experiments] == ["001", "002"]
    assert summary.stop_reason == "search space exhausted"


def test_a_refused_training_request_is_logged_in_a_real_workspace(tmp_path):
    ws = Workspace.init(
        tmp_path / "ws", model="fake:planner", judge="fake:judge", researcher="heuristic"
    ).main_root
    plain = proposal("plain", agent_patch={"decoding": {"max_tokens": 200}})
    scripted = ScriptedResearcher([proposal("train", training_request=TRAIN), plain])
    summary = run_loop(ws, experiments=2, researcher=scripted, wait_for_approval=False)
    assert summary.waiting_for is None
    assert [r.hypothesis for r in summary.experiments][1:] == ["plain"]  # after the stock agent
    refused = Workspace.open(ws).events("refused")
    assert [e.payload["request"] for e in refused] == ["002"]
    assert "no trainable weights" in refused[0].payload["note"]
