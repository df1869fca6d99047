"""Pilot tests of the secondary screens (bisect, report, help, chart) and the reference hook."""

from __future__ import annotations

from pathlib import Path

from tests.tui.helpers import commit_experiment, gate_result, wait_for
from tests.tui.snapshot_app import make_app
from tui.app import AutoresearchApp
from tui.screens.chart import ChartScreen
from tui.source import WorkspaceSource
from tui.widgets.detail_pane import DetailPane
from tui.widgets.quality_chart import QualityChart

SIZE = (120, 40)


async def test_bisect_runs_in_a_worker_and_selects_the_first_bad() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        await pilot.pause()
        assert app.screen.id == "bisect"
        assert (app.screen.value("good"), app.screen.value("bad")) == ("exp/001", "exp/008")
        await pilot.press(*"coverage>=3", "enter")
        await wait_for(pilot, lambda: app.screen.id == "main")
        assert app.table.selected_id == "006"
        assert app.main.query_one(DetailPane).detail.id == "006"


async def test_bisect_asks_for_a_check_before_running() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.id == "bisect"
        assert "check" in str(app.screen.query_one("#bisect-message").content)


async def test_report_shows_its_path() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await wait_for(pilot, lambda: app.screen.id == "report")
        path = str(app.screen.query_one("#report-path").content)
        assert path.endswith("runlog/dashboard.html")
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.id == "main"


async def test_help_and_chart_open_and_close() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen.id == "help"
        await pilot.press("escape", "c")
        await pilot.pause()
        assert isinstance(app.screen, ChartScreen)
        chart = app.screen.query_one(QualityChart)
        assert chart.dimension == "quality" and len(chart.rows) == 8
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert chart.dimension == "atomicity"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.id == "main"


async def test_steering_keys_without_a_loop_send_nothing(workspace: Path) -> None:
    app = AutoresearchApp(WorkspaceSource(workspace), poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p", "s", "a")
        await pilot.pause()
        assert app.screen.id == "main"
    assert not (workspace / ".autoresearch" / "control.jsonl").exists()


async def test_reference_records_are_listed_below_the_experiments(workspace: Path) -> None:
    from runlog.records import ReferenceRecord
    from runlog.workspace import Workspace

    commit_experiment(workspace, "001", quality=0.30)
    ws = Workspace.open(workspace)
    ws.write_reference(
        ReferenceRecord(id="ceiling", kind="ceiling", title="Sonnet", gates=[gate_result(0.65)])
    )
    app = AutoresearchApp(WorkspaceSource(workspace), poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert [r.id for r in app.table.rows_shown] == ["001", "ref:ceiling"]
        app.table.focus()
        await pilot.press("down")
        pane = app.main.query_one(DetailPane)
        await wait_for(pilot, lambda: pane.detail is not None and pane.detail.reference)
        assert pane.detail.quality == 0.65


def test_a_burst_of_progress_events_shows_as_its_last() -> None:
    from tui.widgets.event_stream import coalesce, describe

    burst = [
        {"kind": "gate_progress", "experiment": "001", "gate": "dev-10", "stage": "run", "done": d}
        for d in range(1, 11)
    ]
    note = {"kind": "note", "text": "focus rag"}
    shown = coalesce([*burst, note, *burst[:2]])
    assert [describe(e) for e in shown] == [
        "001 dev-10 run 10/?",
        "note: focus rag",
        "001 dev-10 run 2/?",
    ]
