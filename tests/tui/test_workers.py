"""Slow work stays off the UI thread: bisect steps move the bar from a worker, the detail's
`git diff` loads in a worker, and the once-a-second poll reads no git status."""

from __future__ import annotations

import threading
from pathlib import Path

import git
import pytest
from textual.widgets import ProgressBar, Static

from runlog.views import status_view
from runlog.workspace import Workspace
from tests.tui.helpers import commit_experiment, wait_for
from tests.tui.snapshot_app import FixedSource
from tui.app import AutoresearchApp
from tui.source import BisectProgress
from tui.views import BisectOutcome, ExperimentDetail
from tui.widgets.detail_pane import DetailPane
from tui.workspace_source import WorkspaceSource

SIZE = (120, 40)


class SteppedBisect(FixedSource):
    """A bisect of three steps, each held until the test lets it go."""

    def __init__(self) -> None:
        super().__init__()
        self.go = [threading.Event() for _ in range(3)]

    def bisect(
        self,
        good: str,
        bad: str,
        check: str,
        gate: str | None,
        progress: BisectProgress | None,
    ) -> BisectOutcome:
        assert progress is not None
        for step, go in enumerate(self.go, start=1):
            progress(step, 3, f"{step:040x}")
            go.wait(10)
        return BisectOutcome(first_bad="006", hypothesis="rag k=8 improves the plans")


async def test_the_bisect_bar_advances_with_each_step() -> None:
    source = SteppedBisect()
    app = AutoresearchApp(source, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        await pilot.pause()
        bar = app.screen.query_one("#bisect-progress", ProgressBar)
        message = app.screen.query_one("#bisect-message", Static)
        assert bar.total is None  # indeterminate until the first step
        await pilot.press(*"coverage>=3", "enter")
        for step in (1, 2, 3):
            await wait_for(pilot, lambda step=step: bar.progress == step - 1)
            assert bar.total == 3
            assert f"step {step} of ~3" in str(message.content)
            source.go[step - 1].set()
        await wait_for(pilot, lambda: app.screen.id == "main")
        assert app.table.selected_id == "006"


class HeldDetail(FixedSource):
    """`detail` waits for `release` for the ids in `held`, and notes the thread it ran on."""

    def __init__(self, held: set[str]) -> None:
        super().__init__()
        self.held = held
        self.release = threading.Event()
        self.threads: list[threading.Thread] = []

    def detail(self, experiment_id: str) -> ExperimentDetail | None:
        self.threads.append(threading.current_thread())
        if experiment_id in self.held:
            self.release.wait(10)
        return super().detail(experiment_id)


async def test_the_detail_loads_in_a_worker_while_the_ui_answers() -> None:
    source = HeldDetail(held={"008"})
    app = AutoresearchApp(source, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.main.query_one(DetailPane)
        await wait_for(pilot, lambda: bool(source.threads))  # 008's detail is loading ...
        await pilot.press("question_mark")  # ... and the UI still answers keys
        await wait_for(pilot, lambda: app.screen.id == "help")
        assert pane.detail is None
        await pilot.press("escape")
        source.release.set()
        await wait_for(pilot, lambda: pane.detail is not None and pane.detail.id == "008")
    assert threading.main_thread() not in source.threads


async def test_a_slow_detail_does_not_replace_the_one_selected_since() -> None:
    source = HeldDetail(held={"008"})
    app = AutoresearchApp(source, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.main.query_one(DetailPane)
        await wait_for(pilot, lambda: bool(source.threads))  # 008 is loading, held
        app.table.focus()
        await pilot.press("down")  # 007 loads at once
        await wait_for(pilot, lambda: pane.detail is not None and pane.detail.id == "007")
        source.release.set()  # 008 arrives late
        await wait_for(pilot, lambda: len(source.threads) >= 2 and not app.workers)
        await pilot.pause(0.1)
        assert pane.detail.id == "007"


def refuse(*args, **kwargs):
    raise AssertionError("the poll must not read git status")


async def test_the_poll_reads_no_git_status(workspace: Path, monkeypatch) -> None:
    commit_experiment(workspace, "001", quality=0.30)
    commit_experiment(workspace, "002", quality=0.35, delta=0.05, temperature=0.5)
    (workspace / "scratch.txt").write_text("untracked\n")
    (workspace / "agent" / "agent.toml").write_text("model = 'changed'\n")
    monkeypatch.setattr(git.IndexFile, "diff", refuse)
    monkeypatch.setattr(git.Repo, "untracked_files", property(refuse))
    with pytest.raises(AssertionError, match="must not read git status"):
        status_view(Workspace.open(workspace, repair=False))  # what the poll read before
    app = AutoresearchApp(WorkspaceSource(workspace), poll_interval=0.05)
    async with app.run_test(size=SIZE) as pilot:
        header = app.main.query_one("#status-bar")
        await wait_for(pilot, lambda: "kept 2" in header.render_text().plain)
        await pilot.pause(0.3)  # a few more polls
        assert "best 002 0.350" in header.render_text().plain
        shown = "\n".join(line.text for line in app.event_stream.lines)
        assert "could not read the workspace" not in shown
