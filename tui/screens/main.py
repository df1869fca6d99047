"""The main screen: header, experiments table, detail pane, live event stream, key bindings."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer

from tui.widgets.detail_pane import DetailPane
from tui.widgets.event_stream import EventStream
from tui.widgets.experiments_table import ExperimentsTable
from tui.widgets.status_bar import StatusBar


class MainScreen(Screen):
    """Lays the widgets out and forwards keys to the app, which owns the workspace."""

    BINDINGS = [
        Binding("n", "app.note", "Note"),
        Binding("p", "app.pause_resume", "Pause/Resume"),
        Binding("s", "app.stop", "Stop"),
        Binding("a", "app.approval('approve')", "Approve"),
        Binding("d", "app.approval('deny')", "Deny"),
        Binding("c", "app.chart", "Chart"),
        Binding("v", "app.cases", "Cases"),
        Binding("b", "app.bisect", "Bisect"),
        Binding("r", "app.report", "Report"),
        Binding("question_mark", "app.help", "Help", key_display="?"),
        Binding("q", "app.quit_tui", "Quit"),
    ]

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status-bar")
        yield ExperimentsTable(id="experiments")
        with Horizontal(id="lower"):
            yield DetailPane(id="detail")
            yield EventStream(id="events")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#experiments").border_title = "experiments"
        self.query_one("#detail").border_title = "detail"
        self.query_one("#events").border_title = "events"
        self.app.main_ready()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value is not None:
            self.app.show_detail_soon(event.row_key.value)
