"""Pilot tests of the supervisor's TUI against a real workspace and a fake loop."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from rich.syntax import Syntax
from textual.widgets import Static

from orchestrator.control import read_commands, read_status, send
from tests.tui.fake_loop import REQUEST, FakeLoop
from tests.tui.helpers import commit_experiment, wait_for
from tui.app import AutoresearchApp
from tui.screens.approval import ApprovalScreen
from tui.source import WorkspaceSource
from tui.widgets.detail_pane import DetailPane

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


async def test_p_pauses_a_started_loop_after_its_node_and_resumes_it(workspace: Path) -> None:
    loop = FakeLoop(node_seconds=0.02)
    app = make_app(workspace, start=True, loop_runner=loop)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.live.state == "running" and loop.nodes_run > 2)
        await pilot.press("p")
        await wait_for(pilot, lambda: app.live.state == "paused")
        assert "paused" in app.main.query_one("#status-bar").render_text().plain
        nodes_when_paused = loop.nodes_run
        await pilot.pause(0.3)
        assert loop.nodes_run == nodes_when_paused  # nothing runs while paused
        await pilot.press("p")
        await wait_for(pilot, lambda: loop.nodes_run > nodes_when_paused)
        await wait_for(pilot, lambda: app.live.state == "running")
        await pilot.press("q")  # started here: stop the loop, then quit when it has ended
        await wait_for(pilot, lambda: loop.stopped.is_set())
    assert [c.kind for c in commands(workspace)] == ["pause", "resume", "stop"]
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
        assert app.screen.request["id"] == REQUEST["id"]
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
        await pilot.press("d")  # ... until a or d reopens it
        await wait_for(pilot, lambda: app.focused is not None and app.focused.id == "approve")
        assert isinstance(app.screen, ApprovalScreen)
        await pilot.press("d")
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
