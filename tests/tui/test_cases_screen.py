"""`v` opens the selected experiment's per-case view: the same text as `show NNN --cases`."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from runlog.records import ExperimentRecord, OutputRow
from runlog.workspace import Workspace
from tests.tui.helpers import gate_result, wait_for
from tui.app import AutoresearchApp
from tui.screens.cases import CasesScreen
from tui.widgets.detail_pane import DetailPane
from tui.workspace_source import WorkspaceSource

SIZE = (120, 40)


def commit_with_outputs(root: Path) -> None:
    ws = Workspace.init(root)  # the real ruler: a case view shows the case's task
    record = ExperimentRecord(
        id="001",
        hypothesis="baseline",
        method="-",
        lever_class="baseline",
        status="kept",
        gates=[gate_result(0.3)],
    )
    outputs = [
        OutputRow(
            case_id="c01",
            text="Trip to Paris\n1. When do you travel?",
            plan={"title": "Trip to Paris", "questions": ["When do you travel?"]},
            problems=["not_seven"],
            verdicts=gate_result(0.3).verdicts[:1],
        )
    ]
    ws.commit_experiment(record, outputs)


async def test_v_opens_the_selected_experiments_cases(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    commit_with_outputs(workspace)
    app = AutoresearchApp(WorkspaceSource(workspace), poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.main.query_one(DetailPane)
        await wait_for(pilot, lambda: pane.detail is not None and pane.detail.id == "001")
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, CasesScreen))
        text = str(app.screen.query_one("#cases-text", Static).content)
        assert "c01" in text and "When do you travel?" in text
        assert "not_seven" in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, CasesScreen))
