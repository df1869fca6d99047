"""The chart screen: quality (or one rubric dimension) over experiments."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Select

from tui.views import DIMENSION_LABELS, ExperimentRow
from tui.widgets.quality_chart import QualityChart

METRICS: list[tuple[str, str]] = [("quality", "quality"), *((d, d) for d in DIMENSION_LABELS)]


class ChartScreen(Screen):
    """A dimension selector over the plot; the app feeds it fresh rows while it is open."""

    BINDINGS = [
        Binding("escape,c,q", "app.pop_screen", "Back"),
        Binding("left_square_bracket", "cycle(-1)", "Prev metric", key_display="["),
        Binding("right_square_bracket", "cycle(1)", "Next metric", key_display="]"),
    ]

    def __init__(self, rows: list[ExperimentRow]) -> None:
        super().__init__(id="chart")
        self.rows = rows

    def compose(self) -> ComposeResult:
        yield Select(METRICS, value="quality", allow_blank=False, id="metric")
        yield QualityChart(id="quality-chart")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(QualityChart).show(self.rows, "quality")
        self.query_one(QualityChart).focus()

    @property
    def metric(self) -> str:
        return str(self.query_one("#metric", Select).value)

    def show(self, rows: list[ExperimentRow]) -> None:
        self.rows = rows
        self.query_one(QualityChart).show(rows, self.metric)

    def on_select_changed(self, event: Select.Changed) -> None:
        self.query_one(QualityChart).show(self.rows, str(event.value))

    def action_cycle(self, step: int) -> None:
        names = [name for name, _ in METRICS]
        index = (names.index(self.metric) + step) % len(names)
        self.query_one("#metric", Select).value = names[index]
