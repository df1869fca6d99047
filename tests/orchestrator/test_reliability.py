"""Issue 13's findings, each as a regression test: a bad configuration is refused before a
budget is spent, an unattended run never blocks, each control command is applied once, and
corrupted state gives a clear message with a way out (the fake candidate keeps them fast)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from orchestrator import control
from orchestrator.budget import Budget
from orchestrator.cli import load_commands
from orchestrator.loop import run_loop
from orchestrator.researchers.base import LogView
from orchestrator.researchers.heuristic import HeuristicResearcher
from orchestrator.services import WorkspaceServices
from runlog.settings import dump_config
from runlog.workspace import Workspace


@pytest.fixture(scope="module")
def cli():
    return load_commands()


@pytest.fixture
def workspace(tmp_path) -> Path:
    return Workspace.init(
        tmp_path / "ws", model="fake:planner", judge="fake:judge", researcher="heuristic"
    ).main_root


@pytest.fixture(autouse=True)
def trainable_candidate(monkeypatch) -> None:
    """The fake candidate counts as trainable, so the training-approval paths run on it."""
    from orchestrator.services import WorkspaceServices

    monkeypatch.setattr(WorkspaceServices, "trainable", lambda self: (True, ""))


class TrainableHeuristic(HeuristicResearcher):
    """A plateau asks for training at once (a short run)."""

    def __init__(self) -> None:
        super().__init__(plateau_after=1, training_steps=2)

    def propose_batch(self, log: LogView, notes: list[str], k: int) -> list:
        # never the RAG move: its lever worker loads the embedding model (~5 s an experiment),
        # and these tests are about requests and state, not levers (notes_seen is unchanged)
        return super().propose_batch(log, [*notes, "avoid rag"], k)


def invoke(cli, *args: str):
    return CliRunner(env={"COLUMNS": "200"}).invoke(cli, list(args))


def autoresearch(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The real entry point (its error handling included), in a subprocess."""
    code = "from orchestrator.cli import main; main()"
    env = {**os.environ, "AUTORESEARCH_LOAD_PLUGINS": ""}  # no installed third-party plugins
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
    )


def plateau_waiting(workspace: Path) -> dict:
    """Run until the trainable heuristic asks for training and the run ends waiting."""
    summary = run_loop(
        workspace, experiments=4, researcher=TrainableHeuristic(), wait_for_approval=False
    )
    assert summary.waiting_for is not None and summary.waiting_for["type"] == "training"
    return summary.waiting_for


# --- 1. an unknown model spec ----------------------------------------------------------------


def test_init_refuses_an_unknown_model_spec_naming_the_known_backends(cli, tmp_path):
    result = invoke(cli, "init", str(tmp_path / "ws"), "--model", "nosuch:thing")
    assert result.exit_code == 2
    assert "unknown model backend 'nosuch'" in result.output
    assert "fake" in result.output and "local" in result.output
    assert not (tmp_path / "ws").exists()


def test_an_experiment_whose_every_case_failed_is_failed_never_kept(workspace):
    agent = workspace / "agent" / "agent.toml"
    agent.write_text(agent.read_text().replace("fake:planner", "nosuch:thing"))
    run_loop(workspace, experiments=1, preflight=False)  # what preflight would have refused
    record = Workspace.open(workspace).record("001")
    assert record.status == "failed"  # the baseline too: it measured nothing
    assert "every case" in record.failure and "nosuch" in record.failure
    assert Workspace.open(workspace).current_best() is None


# --- 2. configuration errors refuse to start ---------------------------------------------------


def test_run_refuses_a_wrong_pinned_ruler_and_an_unknown_judge_before_any_experiment(workspace):
    ws = Workspace.open(workspace)
    config = ws.config.model_copy(deep=True)
    config.ruler.lock_hash = "0" * 64
    config.judge.spec = "nosuch:judge"
    (workspace / "autoresearch.toml").write_text(dump_config(config))
    result = autoresearch("run", "-C", str(workspace), "--experiments", "3")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("error: ") for line in lines)
    assert "ruler.lock_hash" in result.stderr and "nosuch:judge" in result.stderr
    assert "Traceback" not in result.stderr
    assert Workspace.open(workspace).record_ids() == []
    status = autoresearch("status", "-C", str(workspace))
    assert "problem    " in status.stdout and "ruler.lock_hash" in status.stdout


# --- 3. never block unattended -------------------------------------------------------------------


def test_the_heuristic_never_asks_to_train_a_model_that_cannot_train():
    from levers.config import BASELINE_AGENT
    from levers.training.trainers import training_supported
    from orchestrator.researchers.base import ExperimentSummary

    def plateau(model: str) -> LogView:
        agent = {**BASELINE_AGENT.model_dump(), "model": model}
        done = [
            ExperimentSummary(
                id=f"{i:03d}",
                status="kept" if i == 1 else "discarded",
                lever_class="prompt",
                hypothesis="h",
                agent=agent,
            )
            for i in (1, 2, 3)
        ]
        here = training_supported(model)[0]  # what the loop's services tell the researcher
        return LogView(
            experiments=done,
            best_id="001",
            best_agent=agent,
            since_last_kept=2,
            trainable_here=here,
        )

    researcher = HeuristicResearcher(plateau_after=2)
    assert researcher.propose(plateau("fake:echo"), []).training_request is None
    assert researcher.propose(plateau("apple:system"), []).training_request is None
    assert researcher.propose(plateau("local:smollm2-135m"), []).training_request is not None


@pytest.mark.slow
@pytest.mark.parametrize("policy", ["deny", "approve"])
def test_on_request_settles_a_training_request_unattended(workspace, policy):
    summary = run_loop(workspace, experiments=4, researcher=TrainableHeuristic(), on_request=policy)
    assert summary.waiting_for is None and len(summary.experiments) == 4
    ws = Workspace.open(workspace)
    kind = "approved" if policy == "approve" else "denied"
    (event,) = ws.events(kind)
    assert f"--on-request {policy}" in event.payload["note"]
    if policy == "approve":  # the fake candidate cannot train: a recorded failure, not a crash
        assert any("training failed" in e.payload["text"] for e in ws.events("error"))


@pytest.mark.slow
def test_on_request_approve_with_trainings_grants_the_budget_once(workspace):
    from orchestrator.control import TrainingGrant

    summary = run_loop(
        workspace,
        experiments=5,
        researcher=TrainableHeuristic(),
        on_request="approve",
        grant=TrainingGrant(trainings=2),
    )
    assert summary.waiting_for is None
    first, *within = Workspace.open(workspace).events("approved")
    assert first.payload["grant"] == {"trainings": 2, "minutes": None}
    # the second training is approved by the budget, not asked: then the budget is spent
    assert [e.payload["command"].split("/")[0] for e in within] == [first.payload["command"]]
    assert "within the training budget" in within[0].payload["note"]


def test_trainings_without_on_request_approve_is_a_usage_error(cli, workspace):
    result = invoke(cli, "run", "-C", str(workspace), "--trainings", "3")
    assert result.exit_code == 2 and "--on-request approve" in result.output


def test_no_wait_exits_3_saying_once_what_it_waits_for(cli, workspace, monkeypatch):
    import orchestrator.loop

    monkeypatch.setattr(
        orchestrator.loop, "make_researcher", lambda spec, workspace=None: TrainableHeuristic()
    )
    result = invoke(cli, "run", "-C", str(workspace), "--experiments", "4", "--no-wait")
    assert result.exit_code == 3, result.output
    request = control.read_status(workspace).pending_request
    command = f"autoresearch approve {request['id']} -C {workspace}"
    assert result.output.count(command) == 1
    # 10. status names the request it waits on
    status = invoke(cli, "status", "-C", str(workspace))
    assert f"waiting for approval · exp{request['id']}" in status.output


# --- 4. each control command applied once --------------------------------------------------------


def test_a_note_re_read_after_a_crash_is_logged_once_and_still_reaches_the_state(workspace):
    ws = Workspace.open(workspace)
    services = WorkspaceServices(ws, HeuristicResearcher(), Budget(1), poll_seconds=0.01)
    control.send(workspace, "note", "focus rag")
    state = {"control_offset": 0, "notes": []}
    first = services.poll(state, "read_log")
    again = services.poll(state, "read_log")  # the node re-run from the same checkpoint
    assert first["notes"] == again["notes"] == ["focus rag"]
    assert len(ws.events("note")) == 1


def test_a_lost_checkpoint_replays_no_old_command(workspace):
    run_loop(workspace, experiments=1)
    control.send(workspace, "note", "focus multi_call")
    control.send(workspace, "stop")
    assert run_loop(workspace, experiments=2).experiments == []  # the stop is applied at once
    (workspace / ".autoresearch" / "checkpoints.sqlite").unlink()
    summary = run_loop(workspace, experiments=1)
    assert len(summary.experiments) == 1 and "supervisor" not in summary.stop_reason
    ws = Workspace.open(workspace)
    assert len(ws.events("note")) == 1 and len(ws.events("stop")) == 1


@pytest.mark.slow
def test_notes_sent_while_waiting_for_approval_reach_the_next_proposal(workspace):
    request = plateau_waiting(workspace)
    control.send(workspace, "note", "focus multi_call")
    control.send(workspace, "deny", "not now", request["id"])
    control.send(workspace, "note", "after the answer")
    summary = run_loop(workspace, experiments=1, researcher=TrainableHeuristic())
    (record,) = summary.experiments
    assert record.notes_seen == ["focus multi_call", "after the answer"]
    ws = Workspace.open(workspace)
    assert [e.payload["text"] for e in ws.events("note")] == [
        "focus multi_call",
        "after the answer",
    ]
    assert len(ws.events("denied")) == 1


def test_a_stop_while_waiting_for_approval_is_logged_as_a_stop(workspace):
    plateau_waiting(workspace)
    stop = control.send(workspace, "stop")
    summary = run_loop(workspace, experiments=1, researcher=TrainableHeuristic())
    assert summary.experiments == [] and "supervisor" in summary.stop_reason
    ws = Workspace.open(workspace)
    assert ws.events("denied") == []
    (event,) = ws.events("stop")
    assert event.payload["command"] == stop.id


# --- 5. corrupted state: a clear message and a way out -----------------------------------------


@pytest.mark.slow  # two runs of the real CLI in subprocesses
def test_a_garbage_checkpoint_database_names_the_file_and_reset_state_recovers(workspace):
    run_loop(workspace, experiments=1)
    db = workspace / ".autoresearch" / "checkpoints.sqlite"
    db.write_bytes(b"this is not a database" * 100)
    result = autoresearch("run", "-C", str(workspace), "--experiments", "1")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert str(db) in line and "--reset-state" in line
    result = autoresearch("run", "-C", str(workspace), "--experiments", "1", "--reset-state")
    assert result.returncode == 0, result.stderr
    assert "moved" in result.stderr and Workspace.open(workspace).record_ids() == ["001", "002"]


@pytest.mark.slow  # three runs of the real CLI in subprocesses
def test_a_garbage_commit_journal_names_the_file_and_reset_state_recovers(workspace):
    run_loop(workspace, experiments=1)
    journal = workspace / ".autoresearch" / "commit.json"
    journal.write_text("{not json")
    for command in ("status", "log"):
        result = autoresearch(command, "-C", str(workspace))
        assert result.returncode == 2 and "Traceback" not in result.stderr
        (line,) = result.stderr.strip().splitlines()
        assert str(journal) in line and "--reset-state" in line
    result = autoresearch("run", "-C", str(workspace), "--experiments", "1", "--reset-state")
    assert result.returncode == 0, result.stderr
    assert Workspace.open(workspace).record_ids() == ["001", "002"]


# --- 8. bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["--experiments", "-1"],
        ["--experiments", "0"],
        ["--minutes", "0"],
        ["--minutes", "-5"],
        ["--usd", "-1"],
        ["--on-request", "maybe"],
    ],
)
def test_run_refuses_bad_numbers(cli, workspace, args):
    result = invoke(cli, "run", "-C", str(workspace), *args)
    assert result.exit_code == 2 and "Invalid value" in result.output
    assert Workspace.open(workspace).record_ids() == []


def test_plan_refuses_an_empty_task(cli):
    result = invoke(cli, "plan", "  ", "--model", "fake:planner")
    assert result.exit_code == 2 and "TASK is empty" in result.output


def test_init_on_a_workspace_with_other_settings_refuses_or_rewrites_with_force(cli, workspace):
    result = invoke(cli, "init", str(workspace), "--model", "fake:echo")
    assert result.exit_code == 2 and "candidate.model is 'fake:planner'" in result.output
    result = invoke(cli, "init", str(workspace), "--model", "fake:echo", "--force")
    assert result.exit_code == 0, result.output
    assert "changed candidate.model: fake:planner -> fake:echo" in result.output
    config = tomllib.loads((workspace / "autoresearch.toml").read_text())
    assert config["candidate"]["model"] == "fake:echo"
    assert 'model = "fake:echo"' in (workspace / "agent" / "agent.toml").read_text()
    assert invoke(cli, "init", str(workspace), "--model", "fake:echo").exit_code == 0


# --- 9. a training failure of any kind -----------------------------------------------------------


@pytest.mark.slow
def test_a_training_failure_that_is_not_ours_is_recorded_and_the_loop_goes_on(
    workspace, monkeypatch
):
    import levers.training.track as track

    def broken(*args, **kwargs):
        raise ImportError("No module named 'trl'")

    monkeypatch.setattr(track, "run_training", broken)
    summary = run_loop(
        workspace, experiments=4, researcher=TrainableHeuristic(), on_request="approve"
    )
    assert len(summary.experiments) == 4
    (error,) = Workspace.open(workspace).events("error")
    assert "ImportError: No module named 'trl'" in error.payload["text"]
