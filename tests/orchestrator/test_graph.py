"""The researcher graph's routing with fake services and an in-memory checkpointer."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command

from levers.validate import ValidationReport
from orchestrator.budget import Budget
from orchestrator.graph import LoopContext, build_graph, checkpoint_serializer
from orchestrator.lever_check import validate_and_repair
from orchestrator.researchers.base import ExperimentSummary, LogView, Proposal, TrainingRequest
from orchestrator.state import ExperimentRun, Outcome, Planned

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
    """The graph's services with one worker slot, run synchronously: a proposal's lever is
    "written" and validated by `lever_check.validate_and_repair`, the one used for real."""

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

    def agent_key(self, proposal):
        return proposal.hypothesis

    def trainable(self):
        return self.can_train

    def first_free_id(self, planned) -> int:
        return max([len(self.recorded) + 1, *(int(i) + 1 for i in planned)])

    def free_slots(self, planned: int, running: int) -> int:
        free = 1 - running
        if self.budget.experiments is not None:
            free = min(free, self.budget.experiments - self.budget.done - planned)
        return max(free, 0)

    def write_lever(self, exp_id, proposal, agent_dir=None):
        return f"agent/levers/{proposal.lever_filename}" if proposal.lever_code else None

    def validate_lever(self, path, agent_patch=None, parent=None):
        ok = self.valid or "fixed" in path
        return ValidationReport(path=path, ok=ok, stage="import", message="" if ok else "boom")

    def start_and_await_first(self, flying: list[Planned]) -> dict[str, ExperimentRun]:
        planned = flying[0]
        run = ExperimentRun(exp_id=planned.exp_id, failure=planned.proposal_error)
        path = self.write_lever(planned.exp_id, planned.proposal)
        if path and not run.failure:
            checked = validate_and_repair(self, planned.exp_id, planned.proposal, path)
            run.proposal = checked.repaired
            if not checked.report.ok:
                run.failure = f"lever validation failed at {checked.report.stage}: boom"
        return {planned.exp_id: run}

    def record_planned(self, planned: Planned, run: ExperimentRun) -> str:
        if run.failure:
            outcome = Outcome.failed(run.failure)
        else:
            outcome = Outcome(status="kept", cost_usd=0.5)
        self.budget.count(outcome)
        self.recorded.append(
            {
                "id": planned.exp_id,
                "outcome": outcome,
                "notes": planned.notes_seen,
                "proposal": run.proposal or planned.proposal,
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
        "stop_requested": bool(state.get("stop_requested")) or node == "run_pool"
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
    services.write_lever = lambda exp_id, p, agent_dir=None: (
        f"agent/levers/{'fixed' if p.lever_code == 'x = 1' else 'mine'}.py"
    )
    run(build_graph(InMemorySaver()), {}, config(), services)
    assert services.recorded[0]["outcome"].status == "kept"
    assert services.recorded[0]["proposal"].lever_code == "x = 1"  # the repair is recorded


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
    assert chunks[-1]["__interrupt__"][0].value["id"] == "001"  # a denied id is free again
    assert services.events[0][0] == "denied"
    run(graph, Command(resume={"approved": True}), config(), services)
    assert [r["proposal"].hypothesis for r in services.recorded] == ["b"]


def test_a_stop_while_waiting_for_approval_drops_the_unapproved_experiment():
    services = FakeServices(ScriptedResearcher([proposal("a")]))
    services.supervised = True
    graph = build_graph(InMemorySaver())
    run(graph, {}, config(), services)
    run(graph, Command(resume={"approved": False, "stop": True}), config(), services)
    state = graph.get_state(config())
    assert not state.next and not services.recorded and not state.values["planned"]
    assert state.values["stop_reason"] == "stopped by the supervisor"
    assert services.events[0][0] == "stop"


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
    graph.interrupt_before_nodes = ["record_ready"]  # stands in for a kill before recording
    with caplog.at_level(logging.WARNING):
        values = graph.get_state(config()).values
        assert isinstance(values["proposal"], Proposal)
        assert values["proposal"].training_request == request
        run(graph, Command(resume={"approved": True}), config(), services)
    conn.close()
    conn = sqlite3.connect(path, check_same_thread=False)
    with caplog.at_level(logging.WARNING):
        values = (
            build_graph(SqliteSaver(conn, serde=checkpoint_serializer())).get_state(config()).values
        )
    conn.close()
    assert services.trained == [request.model_dump()]
    assert isinstance(values["planned"]["001"], Planned)
    assert isinstance(values["finished"]["001"], ExperimentRun)
    assert "unregistered type" not in caplog.text


def test_a_training_grant_approves_the_next_requests_within_it_then_asks_again():
    def train(name: str) -> Proposal:
        request = TrainingRequest(kind="sft", rationale=name, steps=30)
        return proposal(name, training_request=request)

    researcher = ScriptedResearcher([train("t1"), train("t2"), train("t3"), proposal("x")])
    services = FakeServices(researcher)
    graph = build_graph(InMemorySaver())
    chunks = run(graph, {}, config(), services)
    assert chunks[-1]["__interrupt__"][0].value["rationale"] == "t1"
    grant = {"trainings": 2}
    resume = Command(resume={"approved": True, "command": "c1", "grant": grant})
    chunks = run(graph, resume, config(), services)
    # t2 ran within the grant, unasked; t3 is past it and asks
    assert [r["rationale"] for r in services.trained] == ["t1", "t2"]
    assert chunks[-1]["__interrupt__"][0].value["rationale"] == "t3"
    approved = [p for kind, p in services.events if kind == "approved"]
    assert (
        "within the training budget granted by c1 (0 more training(s) left)" in approved[1]["note"]
    )
    run(graph, Command(resume={"approved": False}), config(), services)
    assert len(services.trained) == 2 and services.events[-1][0] == "denied"
    assert [r["proposal"].hypothesis for r in services.recorded] == ["x"]
