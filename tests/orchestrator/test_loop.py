"""The loop on a real workspace with the fake candidate: steering, plateau → approval, summary."""

from __future__ import annotations

import pytest

from orchestrator import control
from orchestrator.loop import run_loop
from orchestrator.researchers.heuristic import HeuristicResearcher
from runlog.workspace import Workspace


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


class TrainableHeuristic(HeuristicResearcher):
    """Takes the fake candidate for trainable, so the approval path runs on it."""

    def trainable(self, model: str) -> bool:
        return True


@pytest.mark.parametrize("answer", ["approve", "deny"])
def test_a_plateau_requests_training_and_waits_for_the_supervisor(workspace, answer):
    researcher = TrainableHeuristic(plateau_after=1)
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
        if kind == "node" and payload["node"] == "run_gate":
            control.send(workspace, "stop")

    summary = run_loop(workspace, experiments=5, on_progress=stop_at_first)
    assert [r.id for r in summary.experiments] == ["001"]
    assert summary.stop_reason == "stopped by the supervisor"
    assert summary.dashboard is not None and summary.dashboard.exists()
