"""Pilot tests of the secondary screens (bisect, report, help, chart) and of reference records."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from rich.table import Table
from textual.widgets import Static

from tests.tui.helpers import commit_experiment, gate_result, wait_for
from tests.tui.snapshot_app import make_app
from tui.app import AutoresearchApp
from tui.screens.chart import ChartScreen
from tui.widgets.detail_pane import DetailPane
from tui.widgets.quality_chart import QualityChart
from tui.workspace_source import WorkspaceSource

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
        pane = app.main.query_one(DetailPane)  # the detail loads in a worker
        await wait_for(pilot, lambda: pane.detail is not None and pane.detail.id == "006")


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


def pane_text(app: AutoresearchApp, widget_id: str) -> str:
    """What one part of the detail pane shows, as plain text (wide: no wrapped cells)."""
    console = Console(width=200, file=io.StringIO(), record=True, color_system=None)
    console.print(app.main.query_one(f"#{widget_id}", Static).content)
    return console.export_text()


async def show_reference(pilot, app: AutoresearchApp, row_id: str) -> DetailPane:
    pane = app.main.query_one(DetailPane)
    app.table.focus()
    assert app.table.select(row_id)
    await wait_for(pilot, lambda: pane.detail is not None and pane.detail.id == row_id)
    return pane


@pytest.mark.slow
async def test_ceiling_and_rejudge_references_show_their_tables(loop_workspace: Path) -> None:
    from orchestrator.loop import run_loop
    from runlog import reference
    from runlog.workspace import Workspace

    run_loop(loop_workspace, experiments=2)
    ws = Workspace.open(loop_workspace)
    reference.run_ceiling(ws, "fake:echo", gate="dev-10")
    reference.rejudge(ws, ["1"], "coverage-blind")
    app = AutoresearchApp(WorkspaceSource(loop_workspace), poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        ids = [app.table.coordinate_to_cell_key((i, 0)).row_key.value for i in range(4)]
        assert ids == ["002", "001", "ref:ref001", "ref:ref002"]
        assert [(r.lever_class, r.gate) for r in app.table.rows_shown[2:]] == [
            ("ceiling", "dev-10"),
            ("rejudge", "full-30"),
        ]

        pane = await show_reference(pilot, app, "ref:ref001")
        assert [t.title for t in pane.detail.tables] == [
            "Cloud ceiling on dev-10: only the model changes",
            "Rubric means, scored as candidate",
        ]
        assert pane.detail.tables[0].highlight == (1,)  # the selected record's own row
        tables = pane.query_one("#detail-cases", Static).content.renderables
        assert isinstance(tables[0], Table) and isinstance(tables[2], Table)
        summary, shown = pane_text(app, "detail-summary"), pane_text(app, "detail-cases")
        assert "ref/001" in summary and "fake:echo as candidate on dev-10" in summary
        for header in ("candidate", "where", "quality", "interval", "cov", "W/T/L"):
            assert header in shown
        assert "fake:planner (exp001, best)" in shown and "on-device" in shown
        assert "fake:echo [ref001]" in shown and "0.500–0.500" in shown and "0/10/0" in shown
        assert "scored as candidate" in shown and "nonred" in shown and "3.00" in shown
        assert "generate" in pane_text(app, "detail-diagram")  # the ceiling's process

        pane = await show_reference(pilot, app, "ref:ref002")
        [table] = pane.detail.tables
        assert table.title == "Re-judged on full-30: quality 5-dim → coverage-blind"
        assert table.rows == (("exp001", "0.500", "0.500", "+0.000", "0 → 0/30", "yes"),)
        summary, shown = pane_text(app, "detail-summary"), pane_text(app, "detail-cases")
        assert "ref/002" in summary and "full-30 (coverage-blind)" in summary
        assert "coverage-blind" in shown and "5-dim" in shown and "loses to" in shown
        assert "standard" in shown and "= logged" in shown and "0 → 0/30" in shown


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


def test_the_detail_pane_shows_predicted_and_observed_keep_gate_seconds():
    from tui.views import ExperimentDetail

    detail = ExperimentDetail(
        id="exp004",
        seconds=120.0,
        predicted_delta=0.03,
        observed_delta=0.01,
        predicted_seconds=116.0,
        observed_seconds=119.4,
    )
    text = DetailPane._summary(detail).plain
    assert "predicted Δ +0.030  observed Δ +0.010" in text
    assert "time 120s  keep gate 119s (predicted 116s)" in text
    bare = DetailPane._summary(ExperimentDetail(id="exp005", seconds=10.0)).plain
    assert "time 10s\n" in bare and "predicted" not in bare
