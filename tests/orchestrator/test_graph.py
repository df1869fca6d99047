"""The researcher graph's routing with fake services and an in-memory checkpointer."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command

from levers.validate import ValidationReport
from orchestrator.graph import Budget, LoopContext, build_graph, checkpoint_serializer
from orchestrator.researchers.base import ExperimentSummary, LogView, Proposal, TrainingRequest
from orchestrator.state import Outcome

BASELINE_DONE = ExperimentSummary(id="000", status="kept", lever_class="baseline", hypothesis="b")


class ScriptedResearcher:
    name = "scripted"

    def __init__(self, proposals: list[Proposal], repaired: Proposal | None = None):
        self.proposals = proposals
        self.repaired = repaired
        self.seen_notes: list[list[str]] = []

    def propose(self, log: LogView, notes: list[str]) -> Proposal:
        self.seen_notes.append(list(notes))
        if not self.proposals:
            raise RuntimeError("out of ideas")
        return self.proposals.pop(0)

    def repair(self, proposal: Proposal, report: str) -> Proposal | None:
        return self.repaired


class FakeServices:
    supervised = False

    def __init__(self, researcher: ScriptedResearcher, valid: bool = True, experiments: int = 1):
        self.researcher = researcher
        self.budget = Budget(experiments=experiments)
        self.valid = valid
        self.recorded: list[dict[str, Any]] = []
        self.events: list[tuple[str, dict]] = []
        self.trained: list[dict] = []
        self.pending_notes: list[str] = []
        self.repeats: dict[str, str] = {}  # hypothesis -> the experiment it repeats
        self.can_train: tuple[bool, str] = (True, "")
        self.feedback_seen: list[list[str]] = []

    def poll(self, state, node):
        if self.pending_notes:
            notes, self.pending_notes = self.pending_notes, []
            return {"notes": list(state.get("notes") or []) + notes}
        return {}

    def stop_reason(self, state):
        return "stopped by the supervisor" if state.get("stop_requested") else self.budget.spent()

    def log_view(self, feedback=None) -> LogView:
        """A log whose baseline is already measured (the graph asks the researcher from the
        second experiment on; `test_the_first_experiment_is_the_stock_agent` covers the first)."""
        self.feedback_seen.append(list(feedback or []))
        return LogView(experiments=[BASELINE_DONE], feedback=list(feedback or []))

    def research_kit(self, log):
        raise AssertionError("a scripted researcher uses no research tools")

    def repeat_of(self, proposal):
        return self.repeats.get(proposal.hypothesis)

    def trainable(self):
        return self.can_train

    def next_experiment_id(self) -> str:
        return f"{len(self.recorded) + 1:03d}"

    def write_lever(self, exp_id, proposal):
        return f"agent/levers/{proposal.lever_filename}" if proposal.lever_code else None

    def validate_lever(self, path, agent_patch=None):
        ok = self.valid or "fixed" in path
        return ValidationReport(path=path, ok=ok, stage="import", message="" if ok else "boom")

    def run_gate(self, exp_id, proposal, lever_path):
        return Outcome(status="kept", cost_usd=0.5)

    def record(self, state):
        self.budget.count(state["outcome"])
        self.recorded.append(
            {
                "id": state["exp_id"],
                "outcome": state["outcome"],
                "notes": state.get("notes_seen"),
                "proposal": state["proposal"],
            }
        )
        return "sha"

    def record_event(self, kind, **payload):
        self.events.append((kind, payload))

    def train(self, request, exp_id):
        self.trained.append(request)
        return "abc123"

    def training_estimate(self, request):
        return {"estimated_seconds": 12.0, "data_size": 160}


def run(graph, value, config, services):
    return list(graph.stream(value, config, context=LoopContext(services), stream_mode="updates"))


def config():
    return {"configurable": {"thread_id": "ws"}}


def proposal(h: str, **kw) -> Proposal:
    return Proposal(hypothesis=h, lever_class="prompt", **kw)


def test_runs_until_the_experiment_budget_is_spent():
    services = FakeServices(
        ScriptedResearcher([proposal(f"h{i}") for i in range(5)]), experiments=3
    )
    graph = build_graph(InMemorySaver())
    run(graph, {}, config(), services)
    assert [r["id"] for r in services.recorded] == ["001", "002", "003"]
    state = graph.get_state(config()).values
    assert state["stop_reason"].startswith("ran 3 experiments")
    assert services.budget.cost_usd == 1.5


def test_a_stop_command_ends_the_run_after_the_current_experiment():
    services = FakeServices(ScriptedResearcher([proposal("a"), proposal("b")]), experiments=5)
    services.poll = lambda state, node: {
        "stop_requested": bool(state.get("stop_requested")) or node == "run_gate"
    }
    run(build_graph(InMemorySaver()), {}, config(), services)
    assert len(services.recorded) == 1


class EmptyLogServices(FakeServices):
    """A workspace with no experiment yet."""

    def log_view(self, feedback=None) -> LogView:
        done = [BASELINE_DONE] if self.recorded else []
        return LogView(experiments=done, feedback=list(feedback or []))


def test_the_first_experiment_is_the_stock_agent_whatever_the_researcher():
    researcher = ScriptedResearcher([proposal("my first idea", agent_patch={"model": "x"})])
    services = EmptyLogServices(researcher, experiments=2)
    run(build_graph(InMemorySaver()), {}, config(), services)
    first, second = (r["proposal"] for r in services.recorded)
    assert first.lever_class == "baseline" and first.agent_patch == {} and not first.lever_code
    assert second.hypothesis == "my first idea"
    assert len(researcher.seen_notes) == 1  # the researcher was asked once: for the second


def test_notes_reach_the_next_proposal_and_its_record():
    researcher = ScriptedResearcher([proposal("a"), proposal("b")])
    services = FakeServices(researcher, experiments=2)
    services.pending_notes = ["focus rag"]
    run(build_graph(InMemorySaver()), {}, config(), services)
    assert researcher.seen_notes[0] == ["focus rag"]
    assert researcher.seen_notes[1] == []
    assert services.recorded[0]["notes"] == ["focus rag"]


def test_training_request_waits_for_approval_then_trains():
    request = TrainingRequest(kind="sft", rationale="plateau")
    services = FakeServices(
        ScriptedResearcher([proposal("train", training_request=request), proposal("use adapter")])
    )
    graph = build_graph(InMemorySaver())
    chunks = run(graph, {}, config(), services)
    interrupt = chunks[-1]["__interrupt__"][0].value
    assert (
        interrupt["type"] == "training"
        and interrupt["kind"] == "sft"
        and interrupt["rationale"] == "plateau"
    )
    assert interrupt["estimated_seconds"] == 12.0 and not services.trained
    run(graph, Command(resume={"approved": True, "note": "go"}), config(), services)
    assert services.trained == [request.model_dump()]
    assert services.events[0][0] == "approved"
    assert [r["proposal"].hypothesis for r in services.recorded] == ["use adapter"]


def test_denied_training_continues_without_training():
    request = TrainingRequest(kind="orpo", pairs="on-policy", rationale="plateau")
    services = FakeServices(
        ScriptedResearcher([proposal("train", training_request=request), proposal("next")])
    )
    graph = build_graph(InMemorySaver())
    run(graph, {}, config(), services)
    run(graph, Command(resume={"approved": False}), config(), services)
    assert not services.trained and services.events[0][0] == "denied"
    assert len(services.recorded) == 1


def test_broken_lever_gets_one_repair_and_a_failure_is_recorded():
    broken = proposal("new lever", lever_code="x(", lever_filename="mine.py")
    repaired = proposal("new lever", lever_code="x = 1", lever_filename="fixed.py")
    services = FakeServices(ScriptedResearcher([broken, broken], repaired=None), valid=False)
    run(build_graph(InMemorySaver()), {}, config(), services)
    assert services.recorded[0]["outcome"].status == "failed"
    assert "validation failed at import" in services.recorded[0]["outcome"].failure

    services = FakeServices(ScriptedResearcher([broken], repaired=repaired), valid=False)
    services.write_lever = lambda exp_id, p: (
        f"agent/levers/{'fixed' if p.lever_code == 'x = 1' else 'mine'}.py"
    )
    run(build_graph(InMemorySaver()), {}, config(), services)
    assert services.recorded[0]["outcome"].status == "kept"


def test_a_researcher_error_is_a_failed_experiment_not_a_crash():
    services = FakeServices(ScriptedResearcher([]))
    run(build_graph(InMemorySaver()), {}, config(), services)
    outcome = services.recorded[0]["outcome"]
    assert outcome.status == "failed" and "out of ideas" in outcome.failure


def test_supervised_mode_asks_before_every_experiment():
    services = FakeServices(ScriptedResearcher([proposal("a"), proposal("b")]))
    services.supervised = True
    graph = build_graph(InMemorySaver())
    chunks = run(graph, {}, config(), services)
    assert chunks[-1]["__interrupt__"][0].value["hypothesis"] == "a"
    chunks = run(graph, Command(resume={"approved": False}), config(), services)
    assert not services.recorded and chunks[-1]["__interrupt__"][0].value["hypothesis"] == "b"
    run(graph, Command(resume={"approved": True}), config(), services)
    assert [r["proposal"].hypothesis for r in services.recorded] == ["b"]


def test_typed_state_survives_a_sqlite_checkpoint_and_resumes(tmp_path, caplog):
    request = TrainingRequest(kind="sft", rationale="plateau")
    services = FakeServices(
        ScriptedResearcher([proposal("train", training_request=request), proposal("next")])
    )
    path = tmp_path / "checkpoints.sqlite"
    conn = sqlite3.connect(path, check_same_thread=False)
    run(build_graph(SqliteSaver(conn, serde=checkpoint_serializer())), {}, config(), services)
    conn.close()

    conn = sqlite3.connect(path, check_same_thread=False)  # a fresh process's view
    graph = build_graph(SqliteSaver(conn, serde=checkpoint_serializer()))
    with caplog.at_level(logging.WARNING):
        values = graph.get_state(config()).values
        assert isinstance(values["proposal"], Proposal)
        assert values["proposal"].training_request == request
        run(graph, Command(resume={"approved": True}), config(), services)
        outcome = graph.get_state(config()).values["outcome"]
    conn.close()
    assert services.trained == [request.model_dump()]
    assert isinstance(outcome, Outcome) and outcome.cost_usd == 0.5
    assert "unregistered type" not in caplog.text
