"""`autoresearch run --researcher optuna` killed with SIGKILL resumes without a lost or repeated
trial: every trial the study asked ends up as exactly one recorded experiment."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

from orchestrator.researchers.optuna import STUDY, TRIAL_TAG, study_path
from runlog.workspace import Workspace

pytestmark = pytest.mark.slow  # the real CLI in subprocesses, killed with SIGKILL

CLI = [sys.executable, "-c", "from orchestrator.cli import main; main()"]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    args = ("--model", "fake:planner", "--judge", "fake:judge", "--researcher", "optuna")
    done = cli("init", str(ws), *args)
    assert done.returncode == 0, done.stderr
    return ws


def kill_at(ws: Path, node: str, occurrence: int) -> None:
    """Start the loop; SIGKILL it when `node` starts for the `occurrence`-th time."""
    proc = subprocess.Popen(
        [*CLI, "run", "-C", str(ws), "--experiments", "4"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    live = ws / ".autoresearch" / "live.jsonl"
    deadline = time.time() + 180
    while time.time() < deadline and proc.poll() is None:
        lines = live.read_text().splitlines() if live.exists() else []
        seen = [json.loads(x) for x in lines if x.strip()]
        if sum(e.get("kind") == "node" and e.get("node") == node for e in seen) >= occurrence:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return
        time.sleep(0.005)
    proc.kill()
    pytest.fail(f"the loop never reached {node} #{occurrence}")


@pytest.mark.parametrize(
    ("node", "occurrence"),
    [
        ("run_experiment", 3),  # the second trial asked and checkpointed, mid-evaluation
        ("plan", 3),  # while the second trial is being asked
    ],
)
def test_killed_optuna_loop_resumes_without_a_lost_or_repeated_trial(workspace, node, occurrence):
    kill_at(workspace, node, occurrence)
    committed = len(Workspace.open(workspace).record_ids())
    done = cli("run", "-C", str(workspace), "--experiments", "2")
    assert done.returncode == 0, done.stderr
    records = Workspace.open(workspace).records()
    assert len(records) == committed + 2
    tagged = [int(m.group(1)) for r in records if (m := TRIAL_TAG.match(r.hypothesis))]
    assert len(tagged) == len(set(tagged)) == len(records) - 1  # all but the baseline
    study = optuna.load_study(study_name=STUDY, storage=f"sqlite:///{study_path(workspace)}")
    # the last recorded trial is told on the next propose; the others must all be finished
    states = {t.number: t.state.name for t in study.trials}
    asked = {
        t.number
        for t in study.trials
        if not t.user_attrs.get("imported") and "duplicate_of" not in t.user_attrs
    }
    assert asked == set(tagged), "a trial was asked that no experiment ran (lost) or ran twice"
    assert all(states[n] == "COMPLETE" for n in tagged[:-1]), states
    assert states[tagged[-1]] in ("RUNNING", "COMPLETE")
