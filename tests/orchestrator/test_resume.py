"""`autoresearch run` killed with SIGKILL at several points resumes without losing or repeating."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from git import Repo
from langgraph.checkpoint.sqlite import SqliteSaver

from orchestrator import control
from orchestrator.graph import build_graph, checkpoint_serializer
from orchestrator.loop import THREAD
from runlog.workspace import Workspace

pytestmark = pytest.mark.slow  # the real CLI in subprocesses, killed with SIGKILL

CLI = [sys.executable, "-c", "from orchestrator.cli import main; main()"]


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    done = cli(
        "init",
        str(ws),
        "--model",
        "fake:planner",
        "--judge",
        "fake:judge",
        "--researcher",
        "heuristic",
    )
    assert done.returncode == 0, done.stderr
    # the heuristic's RAG move loads the embedding model: ~5 s an experiment that tells nothing
    # about resuming (the kill points are nodes, whichever lever the experiment tries)
    control.send(ws, "note", "avoid rag")
    return ws


def kill_when(ws: Path, node: str, occurrence: int, experiments: int) -> int:
    """Start the loop, SIGKILL it when `node` starts for the `occurrence`-th time."""
    proc = subprocess.Popen(
        [*CLI, "run", "-C", str(ws), "--experiments", str(experiments)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    live = ws / ".autoresearch" / "live.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        lines = live.read_text().splitlines() if live.exists() else []
        seen = [json.loads(x) for x in lines if x.strip()]
        if sum(1 for e in seen if e.get("kind") == "node" and e.get("node") == node) >= occurrence:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return proc.returncode
        time.sleep(0.005)
    proc.kill()
    pytest.fail(f"the loop never reached {node} #{occurrence}")


def unfinished(ws: Path) -> bool:
    """Whether the killed loop left a run to resume (it may, under load, have just finished)."""
    conn = sqlite3.connect(ws / ".autoresearch" / "checkpoints.sqlite")
    try:
        config = {"configurable": {"thread_id": THREAD}}
        saver = SqliteSaver(conn, serde=checkpoint_serializer())
        return bool(build_graph(saver).get_state(config).tasks)
    finally:
        conn.close()


def assert_consistent(ws_path: Path, expected: int) -> None:
    ws = Workspace.open(ws_path)
    ids = ws.record_ids()
    assert ids == [f"{i:03d}" for i in range(1, expected + 1)], ids
    with Repo(ws_path) as repo:
        tags = sorted(t.name for t in repo.tags if t.name.startswith("exp/"))
        assert tags == [f"exp/{i}" for i in ids]
        messages = [c.message.splitlines()[0] for c in repo.iter_commits("--all")]
        for i in ids:
            assert sum(m.startswith(f"exp{i}:") for m in messages) == 1
        dirty = [
            line
            for line in repo.git.status("--porcelain").splitlines()
            if not line[3:].startswith("runlog/")
        ]
        assert not dirty, f"the agent or other tracked files were left changed: {dirty}"
        kept = [r.id for r in ws.records() if r.status == "kept"]
        first_parent = repo.git.log("--first-parent", "--format=%s", "main").splitlines()
        assert [m.split(":")[0] for m in first_parent if m.startswith("exp")] == [
            f"exp{i}" for i in reversed(kept)
        ]


@pytest.mark.parametrize(
    ("node", "occurrence"),
    [
        ("run_experiment", 2),  # mid-evaluation of the second experiment
        ("record_ready", 2),  # while committing the second experiment
        ("check_stop", 2),  # after the first commit, before the loop's own bookkeeping
        ("plan", 3),  # while the researcher proposes the third
    ],
)
def test_killed_loop_resumes_without_losing_or_repeating(workspace, node, occurrence):
    # a long budget, so that even a kill delayed by a loaded machine lands mid-run
    assert kill_when(workspace, node, occurrence, experiments=50) == -signal.SIGKILL
    assert unfinished(workspace), "the kill came too late to test a resume"
    committed = len(Workspace.open(workspace).record_ids())  # opening repairs a torn commit
    done = cli("run", "-C", str(workspace), "--experiments", "3")
    assert done.returncode == 0, done.stderr
    # the budget belongs to the invocation: three new experiments, the one in flight included
    assert_consistent(workspace, expected=committed + 3)


def test_a_second_loop_on_the_same_workspace_is_refused(workspace):
    proc = subprocess.Popen(
        [*CLI, "run", "-C", str(workspace), "--experiments", "40"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        lock = workspace / ".autoresearch" / "live.json"
        deadline = time.time() + 60
        while not lock.exists() and time.time() < deadline:
            time.sleep(0.05)
        second = cli("run", "-C", str(workspace), "--experiments", "1")
        assert second.returncode == 2
        assert "already running" in second.stderr
    finally:
        proc.kill()
        proc.wait()
    # the killed holder left no stuck lock
    assert cli("run", "-C", str(workspace), "--experiments", "1").returncode == 0
