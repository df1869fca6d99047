"""Gates on workers forked from the fork server (`levers.forkserver`, `levers.zygote`): one child
per agent, a crash fails only its gate, and the server falling over falls back to spawning with
the same results. A fake model stands in (`AUTORESEARCH_FORKSERVER=always`); the real model's
fork safety is tested in tests/levers/test_forkserver_slow.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from levers import forkserver
from levers.config import BASELINE_AGENT
from levers.forkserver import FORKSERVER_ENV, ForkedProcess, close_servers
from levers.pipeline import PipelineError, close_pipelines, pipeline_for, release
from runlog.evaluate import evaluate_config, evaluate_workspace
from runlog.workspace import Workspace
from tests.runlog.conftest import ParseJudge

STOCK = BASELINE_AGENT.model_copy(update={"model": "fake:planner"})
CRASH = '''
import os
import signal

from pydantic import BaseModel, ConfigDict

from levers import Lever, hookimpl


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Crash(Lever):
    """Kills its own process in the middle of a gate (as a segfault in a native library would)."""

    name = "crash"
    lever_class = "other"
    Params = Params

    def prepare(self, ctx):
        os.kill(os.getpid(), signal.SIGSEGV)


@hookimpl
def register_levers(register):
    register(Crash)
'''

STALL = '''
import os
import tempfile
import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from levers import Lever, hookimpl


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Stall(Lever):
    """Says where it is (its pid, in its scratch folder), then works for two minutes."""

    name = "stall"
    lever_class = "other"
    Params = Params

    def prepare(self, ctx):
        Path(tempfile.gettempdir(), "stalled").write_text(str(os.getpid()))
        time.sleep(120)


@hookimpl
def register_levers(register):
    register(Stall)
'''
DRIVER = """
import sys
from runlog.evaluate import evaluate_workspace
from runlog.workspace import Workspace
from tests.runlog.conftest import ParseJudge
evaluate_workspace(Workspace.open(sys.argv[1]), gate="dev-10", judge=ParseJudge())
"""


@pytest.fixture(autouse=True)
def forking(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Workers are forked for the fake model too; every test starts and ends with no server."""
    monkeypatch.setenv(FORKSERVER_ENV, "always")
    close_pipelines()
    close_servers()
    yield
    close_pipelines()
    close_servers()


def gate_texts(config=STOCK, **kwargs) -> list[str]:
    result = evaluate_config(config, gate="dev-10", judge=ParseJudge(), **kwargs)
    return [r.text for r in result.runs]


def test_each_agent_gets_its_own_child_and_the_server_imports_no_lever() -> None:
    first = pipeline_for(STOCK.model_dump(mode="json"), None, None)
    release(first)
    other = STOCK.model_copy(update={"description": "another agent, installed code only"})
    second = pipeline_for(other.model_dump(mode="json"), None, None)
    release(second)
    assert isinstance(first.process, ForkedProcess) and isinstance(second.process, ForkedProcess)
    # spawned, the second agent would be served by the first one's warm worker; forked, never
    assert first.process.pid != second.process.pid
    assert first.process.poll() is not None  # the first agent's child was closed, not reused
    server = forkserver._servers["fake:planner"]
    assert server.ready["lever_modules"] == []  # no lever module was ever imported there
    assert first.process.pid != server.process.pid != second.process.pid


def test_the_same_agent_keeps_its_child_between_gates() -> None:
    worker = pipeline_for(STOCK.model_dump(mode="json"), None, None)
    release(worker)
    again = pipeline_for(STOCK.model_dump(mode="json"), None, None)
    release(again)
    assert again is worker and worker.process.poll() is None


def test_forked_and_spawned_workers_give_the_same_outputs(monkeypatch) -> None:
    forked = gate_texts()
    close_pipelines()
    monkeypatch.setenv(FORKSERVER_ENV, "off")
    spawned = gate_texts()
    assert forked == spawned and all(forked)


def test_a_crashed_child_fails_its_gate_and_the_server_goes_on(ws: Workspace) -> None:
    (ws.agent_dir / "levers").mkdir(exist_ok=True)
    (ws.agent_dir / "levers" / "crash.py").write_text(CRASH)
    ws.agent_path.write_text(ws.agent_path.read_text() + '\n[[levers]]\nname = "crash"\n')
    with pytest.raises(PipelineError, match=r"pipeline process exited \(killed by SIGSEGV\)"):
        evaluate_workspace(ws, gate="dev-10", judge=ParseJudge())
    server = forkserver._servers["fake:planner"]
    assert server.alive
    assert all(gate_texts())  # the next agent's gate, on the same server
    assert forkserver._servers["fake:planner"] is server


@pytest.mark.slow
def test_a_server_that_died_is_started_again() -> None:
    before = gate_texts()
    server = forkserver._servers["fake:planner"]
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait()
    close_pipelines()
    assert gate_texts() == before
    assert forkserver._servers["fake:planner"] is not server


def test_a_server_started_on_another_import_path_is_started_again(monkeypatch, tmp_path) -> None:
    """A lever package put on PYTHONPATH after the server started is seen by the next child."""
    gate_texts()
    server = forkserver.server_for("fake:planner")
    assert forkserver.server_for("fake:planner") is server  # nothing changed: the same
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    fresh = forkserver.server_for("fake:planner")
    assert fresh is not server and fresh.import_path == str(tmp_path) and not server.alive


def test_a_server_that_cannot_start_falls_back_to_spawning(monkeypatch, capfd) -> None:
    def broken(self, spec):
        raise forkserver.ForkServerError(f"the fork server for {spec} did not start (exit 1)")

    monkeypatch.setattr(forkserver.ForkServer, "__init__", broken)
    texts = gate_texts()
    worker = pipeline_for(STOCK.model_dump(mode="json"), None, None)
    release(worker)
    assert not worker.forked and all(texts)
    assert "lever workers are spawned" in capfd.readouterr().err


def test_no_fork_where_the_sandbox_is_not_applied_in_process(monkeypatch) -> None:
    assert forkserver.wanted("local:smollm2-135m", "landlock")
    assert not forkserver.wanted("local:smollm2-135m", "bubblewrap")  # wraps a new process
    assert not forkserver.wanted("anthropic:claude-haiku-4-5", "landlock")  # nothing to load
    monkeypatch.setattr(forkserver.sys, "platform", "darwin")
    assert not forkserver.wanted("local:smollm2-135m", "landlock")
    monkeypatch.setattr(forkserver.sys, "platform", "linux")
    monkeypatch.setenv(FORKSERVER_ENV, "off")
    assert not forkserver.wanted("local:smollm2-135m", "landlock")


def running(pid: int) -> bool:
    """Alive and not a zombie waiting for a reaper."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["always", "off"], ids=["forked", "spawned"])
def test_a_gate_dies_with_the_process_that_ran_it(ws: Workspace, mode: str) -> None:
    """kill -9 of the loop in the middle of a gate: its worker exits at once, instead of
    generating on a core for the minutes the gate had left."""
    (ws.agent_dir / "levers").mkdir(exist_ok=True)
    (ws.agent_dir / "levers" / "stall.py").write_text(STALL)
    ws.agent_path.write_text(ws.agent_path.read_text() + '\n[[levers]]\nname = "stall"\n')
    root = Path(__file__).resolve().parents[2]
    loop = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(ws.main_root)],
        cwd=root,
        env={**os.environ, FORKSERVER_ENV: mode, "PYTHONPATH": str(root)},
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        pattern = f"autoresearch-sandbox-{loop.pid}-*/stalled"
        while not (marks := list(Path(tempfile.gettempdir()).glob(pattern))):
            assert loop.poll() is None and time.monotonic() < deadline, "the gate never stalled"
            time.sleep(0.2)
        time.sleep(0.2)  # the pid is written
        worker = int(marks[0].read_text())
        assert running(worker)
    finally:
        loop.kill()
        loop.wait()
    deadline = time.monotonic() + 20
    while running(worker) and time.monotonic() < deadline:
        time.sleep(0.2)
    alive = running(worker)
    if alive:
        os.kill(worker, signal.SIGKILL)
    assert not alive, "the worker outlived the loop that ran its gate"
