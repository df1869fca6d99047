"""Pilot tests of the supervisor's TUI against a real workspace: the real loop (pause, resume,
stop) and a fake loop (training approval, which the fake planner's loop never asks for)."""

from __future__ import annotations

import functools
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from rich.syntax import Syntax
from textual.widgets import Static
from textual.worker import WorkerState

from orchestrator.control import read_commands, read_live, read_status, send
from orchestrator.loop import run_loop
from tests.tui.fake_loop import REQUEST, FakeLoop
from tests.tui.helpers import commit_experiment, wait_for
from tui.app import AutoresearchApp
from tui.screens.approval import ApprovalScreen
from tui.widgets.detail_pane import DetailPane
from tui.workspace_source import WorkspaceSource

SIZE = (120, 40)


def make_app(workspace: Path, **kwargs) -> AutoresearchApp:
    kwargs.setdefault("poll_interval", 0.1)
    return AutoresearchApp(WorkspaceSource(workspace), **kwargs)


def commands(workspace: Path) -> list:
    return read_commands(workspace)[0]


async def test_note_reaches_the_control_channel(workspace: Path) -> None:
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await pilot.pause()
        assert app.screen.id == "note"
        await pilot.press(*"focus rag", "enter")
        await pilot.pause()
        assert app.screen.id == "main"
    sent = commands(workspace)
    assert [(c.kind, c.text) for c in sent] == [("note", "focus rag")]


class NodeGate:
    """`on_progress` for the real loop that can hold it at its next node event, so a test
    presses keys at a known point of the run (the loop is fast on the fake planner)."""

    def __init__(self) -> None:
        self.nodes: list[str] = []
        self.armed = True
        self.holding = threading.Event()
        self.go = threading.Event()

    def __call__(self, kind: str, payload: dict) -> None:
        if kind != "node":
            return
        self.nodes.append(payload["node"])
        if self.armed:
            self.armed = False
            self.holding.set()
            self.go.wait(20)

    def arm(self) -> None:
        self.holding.clear()
        self.go.clear()
        self.armed = True

    def release(self) -> None:
        self.armed = False
        self.go.set()


def node_events(workspace: Path) -> list[dict]:
    return [e for e in read_live(workspace)[0] if e["kind"] == "node"]


@pytest.mark.slow  # the real loop, paused and resumed
async def test_p_pauses_the_real_loop_after_its_node_and_resumes_it(
    loop_workspace: Path,
) -> None:
    gate = NodeGate()
    runner = functools.partial(run_loop, on_progress=gate)
    app = make_app(loop_workspace, start=True, experiments=3, loop_runner=runner)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, gate.holding.is_set)  # the loop is at its first node
            await wait_for(pilot, lambda: app.live.state == "running")
            await pilot.press("p")
            await wait_for(pilot, lambda: [c.kind for c in commands(loop_workspace)] == ["pause"])
            gate.release()
            await wait_for(pilot, lambda: app.live.state == "paused")
            assert "paused" in app.main.query_one("#status-bar").render_text().plain
            assert read_status(loop_workspace).state == "paused"
            nodes_when_paused = len(node_events(loop_workspace))
            assert nodes_when_paused == len(gate.nodes) == 1  # paused after its current node
            await pilot.pause(1.2)  # the paused loop polls the control channel every 0.5 s
            assert len(node_events(loop_workspace)) == nodes_when_paused
            assert read_status(loop_workspace).state == "paused"

            gate.arm()
            await pilot.press("p")
            await wait_for(pilot, gate.holding.is_set)  # resumed: the next node began
            assert len(node_events(loop_workspace)) == nodes_when_paused + 1
            await wait_for(pilot, lambda: app.live.state == "running")
            assert "paused" not in app.main.query_one("#status-bar").render_text().plain
            await pilot.press("s")  # stop after the current experiment
            gate.release()
            await wait_for(pilot, lambda: app.loop_worker.is_finished, timeout=15)
            assert app.loop_worker.state == WorkerState.SUCCESS, app.loop_worker.error
            await wait_for(pilot, lambda: app.live.state == "stopped")
            summary = app.loop_worker.result
    finally:
        gate.release()
    assert [c.kind for c in commands(loop_workspace)] == ["pause", "resume", "stop"]
    assert summary.stop_reason == "stopped by the supervisor"
    assert [r.id for r in summary.experiments] == ["001"]
    assert read_status(loop_workspace).state == "stopped"


async def test_q_stops_a_loop_started_here_then_quits_when_it_has_ended(
    workspace: Path,
) -> None:
    loop = FakeLoop(node_seconds=0.05)
    app = make_app(workspace, start=True, loop_runner=loop)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.live.state == "running" and loop.nodes_run > 2)
        await pilot.press("q")  # started here: stop the loop, then quit when it has ended
        await wait_for(pilot, lambda: not app.is_running)
        assert loop.stopped.is_set()  # the app quit only once the loop had ended
    assert [c.kind for c in commands(workspace)] == ["stop"]
    assert read_status(workspace).state == "stopped"


def run_in_thread(loop: FakeLoop, workspace: Path) -> threading.Thread:
    thread = threading.Thread(target=loop, args=(workspace,), daemon=True)
    thread.start()
    return thread


async def test_pending_request_is_approved_from_the_modal(workspace: Path) -> None:
    loop = FakeLoop(request_after=1)
    thread = run_in_thread(loop, workspace)  # a loop attached to, not started here
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.focused is not None and app.focused.id == "approve")
        assert app.screen.request.id == REQUEST["id"]
        await pilot.press("n", *"go ahead", "enter", "a")
        await wait_for(pilot, lambda: bool(loop.decisions))
        assert app.screen.id == "main"
        await wait_for(pilot, lambda: app.live.state == "running")
        await pilot.press("q")  # attached: the loop keeps running
    assert thread.is_alive()
    assert loop.decisions == [("approve", "go ahead")]
    approve = [c for c in commands(workspace) if c.kind == "approve"]
    assert approve[0].request == REQUEST["id"] and approve[0].text == "go ahead"
    send(workspace, "stop")
    thread.join(5)


async def test_pending_request_is_denied_from_the_modal(workspace: Path) -> None:
    loop = FakeLoop(request_after=1)
    thread = run_in_thread(loop, workspace)
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.focused is not None and app.focused.id == "approve")
        await pilot.press("escape")  # later: the modal closes and stays closed ...
        await pilot.pause(0.2)
        assert app.screen.id == "main"
        await pilot.press("d")  # ... until a or d reopens it, d on its Deny button
        await wait_for(pilot, lambda: app.focused is not None and app.focused.id == "deny")
        assert isinstance(app.screen, ApprovalScreen)
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(loop.decisions))
    assert loop.decisions == [("deny", "")]
    send(workspace, "stop")
    thread.join(5)


async def test_selecting_an_experiment_shows_its_diff(workspace: Path) -> None:
    commit_experiment(workspace, "001", quality=0.30, hypothesis="baseline")
    commit_experiment(workspace, "002", quality=0.34, delta=0.04, temperature=0.7)
    commit_experiment(workspace, "003", status="discarded", quality=0.31, delta=-0.03)
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.table
        assert [r.id for r in table.rows_shown] == ["001", "002", "003"]
        assert table.selected_id == "003"  # newest first
        table.focus()
        await pilot.press("down")
        pane = app.main.query_one(DetailPane)
        await wait_for(pilot, lambda: pane.detail is not None and pane.detail.id == "002")
        assert "+temperature = 0.7" in pane.detail.diff
        assert "-temperature = 0.0" in pane.detail.diff
        assert [c.outcome for c in pane.detail.cases] == list("WTLLTTWLTL")
        diff_view = app.main.query_one("#detail-diff", Static).content.renderables[1]
        assert isinstance(diff_view, Syntax) and diff_view.lexer.name == "Diff"


async def test_table_follows_an_experiment_committed_by_another_process(workspace: Path) -> None:
    commit_experiment(workspace, "001", quality=0.30)
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.table.row_count == 1
        script = (
            "import sys; from pathlib import Path; from tests.tui.helpers import commit_experiment;"
            "commit_experiment(Path(sys.argv[1]), '002', quality=0.35, delta=0.05, temperature=0.5)"
        )
        subprocess.run(
            [sys.executable, "-c", script, str(workspace)],
            check=True,
            cwd=Path(__file__).parents[2],
        )
        await wait_for(pilot, lambda: app.table.row_count == 2)
        assert app.table.rows_shown[-1].quality == 0.35
        header = app.main.query_one("#status-bar").render_text().plain
        assert "best 002 0.350" in header and "kept 2" in header


async def test_table_sorts_by_a_column(workspace: Path) -> None:
    commit_experiment(workspace, "001", quality=0.30)
    commit_experiment(workspace, "002", status="discarded", quality=0.25, delta=-0.05)
    commit_experiment(workspace, "003", quality=0.40, delta=0.10, temperature=0.2)
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.table
        order = lambda: [table.coordinate_to_cell_key((i, 0)).row_key.value for i in range(3)]  # noqa: E731
        assert order() == ["003", "002", "001"]
        table.sort_by("quality")
        assert order() == ["003", "001", "002"]
        table.sort_by("quality")
        assert order() == ["002", "001", "003"]
