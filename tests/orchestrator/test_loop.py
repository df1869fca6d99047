"""The loop on a real workspace with the fake candidate: steering, plateau → approval, summary."""

from __future__ import annotations

import sqlite3

import pytest
from langgraph.checkpoint.sqlite import SqliteSaver

from models import AutoresearchError
from orchestrator import control
from orchestrator.change import NO_CHANGE
from orchestrator.graph import LoopContext, build_graph, checkpoint_serializer
from orchestrator.loop import THREAD, run_loop
from orchestrator.recovery import reset_state
from orchestrator.researchers.base import Proposal
from orchestrator.researchers.heuristic import HeuristicResearcher
from runlog.workspace import Workspace
from tests.orchestrator.test_graph import FakeServices, ScriptedResearcher, proposal


@pytest.fixture
def workspace(tmp_path):
    return Workspace.init(
        tmp_path / "ws", model="fake:planner", judge="fake:judge", researcher="heuristic"
    ).main_root


def test_a_note_given_mid_run_is_in_the_next_proposals_record(workspace):
    def note_after_first(kind, payload):
        if kind == "experiment" and payload["experiment"] == "001":
            control.send(workspace, "note", "focus multi_call")

    run_loop(workspace, experiments=2, on_progress=note_after_first)
    ws = Workspace.open(workspace)
    second = ws.record("002")
    assert second.notes_seen == ["focus multi_call"]
    assert second.lever_class == "multi_call"  # the heuristic researcher honoured it
    assert [e.payload["text"] for e in ws.events("note")] == ["focus multi_call"]


@pytest.mark.slow
@pytest.mark.parametrize("answer", ["approve", "deny"])
def test_a_plateau_requests_training_and_waits_for_the_supervisor(workspace, answer, monkeypatch):
    # the fake model cannot train, so the graph would refuse the request: pretend it can
    from orchestrator.services import WorkspaceServices

    monkeypatch.setattr(WorkspaceServices, "trainable", lambda self: (True, ""))
    researcher = HeuristicResearcher(plateau_after=1)
    control.send(workspace, "note", "avoid rag")  # not about levers: no embedding model to load
    summary = run_loop(workspace, experiments=4, researcher=researcher, wait_for_approval=False)
    assert summary.waiting_for is not None and summary.waiting_for["type"] == "training"
    assert "Plateau" in summary.waiting_for["rationale"]
    assert control.read_status(workspace).state == "waiting_for_approval"
    ws = Workspace.open(workspace)
    assert len(ws.events("approval_request")) == 1
    recorded = len(ws.record_ids())

    control.send(workspace, answer, "ok" if answer == "approve" else "not now")
    after = run_loop(workspace, experiments=1, researcher=researcher, wait_for_approval=False)
    ws = Workspace.open(workspace)
    kinds = [e.kind for e in ws.events()]
    assert ("approved" if answer == "approve" else "denied") in kinds
    if answer == "approve":  # the fake model has no weights: the failure is recorded, not fatal
        assert "training_started" in kinds and "error" in kinds
    assert after.waiting_for is None
    assert len(ws.record_ids()) == recorded + 1  # and the loop went on with an experiment


def test_stop_ends_the_run_after_the_current_experiment(workspace):
    def stop_at_first(kind, payload):
        if kind == "node" and payload["node"] == "run_pool":
            control.send(workspace, "stop")

    summary = run_loop(workspace, experiments=5, on_progress=stop_at_first)
    assert [r.id for r in summary.experiments] == ["001"]
    assert summary.stop_reason == "stopped by the supervisor"
    assert summary.dashboard is not None and summary.dashboard.exists()


def test_the_dashboard_is_rewritten_after_every_experiment(workspace):
    seen: dict[str, bool] = {}

    def check_dashboard(kind, payload):
        if kind == "experiment":
            html = Workspace.open(workspace).dashboard_path.read_text()
            seen[payload["experiment"]] = f'id="exp{payload["experiment"]}"' in html

    run_loop(workspace, experiments=2, on_progress=check_dashboard)
    assert seen == {"001": True, "002": True}


def test_the_recorded_method_states_the_actual_change(workspace):
    run_loop(workspace, experiments=2)
    ws = Workspace.open(workspace)
    assert ws.record("001").method.splitlines()[0] == NO_CHANGE  # the baseline
    change = ws.record("002").method.splitlines()[0]
    assert change == 'enabled rag (k=2, method="embedding")'  # the heuristic's first move


class BrokenLeverResearcher:
    """Proposes a lever module that does not parse, enabled in the agent."""

    name = "broken-lever"

    def propose(self, log, notes):
        return Proposal(
            hypothesis="a lever of my own",
            lever_class="other",
            agent_patch={"levers": [*log.best_agent["levers"], {"name": "mine"}]},
            lever_code="def broken(:\n",
            lever_filename="mine.py",
        )

    def repair(self, proposal, report):
        return None


def test_a_failed_experiments_method_names_the_lever_and_its_file(workspace):
    run_loop(workspace, experiments=2, researcher=BrokenLeverResearcher())
    record = Workspace.open(workspace).record("002")  # 001: the stock agent
    assert record.status == "failed" and "validation failed at parse" in record.failure
    assert record.method == "enabled mine; wrote lever file agent/levers/mine.py"


def test_an_unfinished_run_from_an_earlier_graph_version_is_refused_in_one_line(workspace):
    path = Workspace.open(workspace).state_dir / "checkpoints.sqlite"
    conn = sqlite3.connect(path, check_same_thread=False)
    graph = build_graph(SqliteSaver(conn, serde=checkpoint_serializer()))
    graph.interrupt_before_nodes = ["run_pool"]  # stands in for a kill before the gates
    services = FakeServices(ScriptedResearcher([proposal("a")]))
    config = {"configurable": {"thread_id": THREAD}}
    list(graph.stream({"graph_version": 1}, config, context=LoopContext(services)))
    assert graph.get_state(config).next == ("run_pool",)
    conn.close()
    with pytest.raises(AutoresearchError, match="earlier version of autoresearch.*--reset-state"):
        run_loop(workspace, experiments=1)
    assert "checkpoints.sqlite" in [moved.name for moved, _ in reset_state(workspace)]
    assert [r.id for r in run_loop(workspace, experiments=1).experiments] == ["001"]
