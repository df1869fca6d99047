"""The detail pane: the selected experiment's hypothesis, result, per-case W/L, diff, diagram."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui.source import DIMENSION_LABELS, ExperimentDetail

OUTCOME_STYLES = {"W": "green", "T": "yellow", "L": "red"}


def _num(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


class DetailPane(VerticalScroll):
    """`show(detail)` replaces the pane's content; `None` shows a hint."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.detail: ExperimentDetail | None = None

    def compose(self):
        yield Static("select an experiment", id="detail-summary")
        yield Static("", id="detail-cases")
        yield Static("", id="detail-diff")
        yield Static("", id="detail-diagram")

    def show(self, detail: ExperimentDetail | None) -> None:
        if detail == self.detail and detail is not None:
            return
        self.detail = detail
        if detail is None:
            self._set("select an experiment", "", "", "")
            return
        if detail.reference:
            self._set(self._summary(detail), self._reference_tables(detail), "", "")
            return
        self._set(
            self._summary(detail), self._cases(detail), self._diff(detail), self._diagram(detail)
        )
        self.scroll_home(animate=False)

    def _set(self, *renderables: RenderableType) -> None:
        for widget_id, renderable in zip(
            ("detail-summary", "detail-cases", "detail-diff", "detail-diagram"),
            renderables,
            strict=True,
        ):
            self.query_one(f"#{widget_id}", Static).update(renderable)

    @staticmethod
    def _summary(d: ExperimentDetail) -> RenderableType:
        text = Text()
        text.append(f"{d.id}", style="bold")
        text.append(f"  {d.status}", style="bold")
        if d.lever_class:
            text.append(f"  {d.lever_class}")
        if d.parent:
            text.append(f"  parent {d.parent}", style="dim")
        text.append("\n")
        text.append("hypothesis ", style="bold cyan")
        text.append(f"{d.hypothesis or '—'}\n")
        if d.method:
            text.append("method ", style="bold cyan")
            text.append(f"{d.method}\n")
        text.append("result ", style="bold cyan")
        text.append(f"{d.gate} quality {_num(d.quality)}")
        if d.interval is not None:
            text.append(f" [{d.interval[0]:.3f}, {d.interval[1]:.3f}]")
        if d.delta is not None:
            text.append(f"  Δ {d.delta:+.3f}", style="green" if d.delta > 0 else "red")
        text.append(f"  W/T/L {d.wins}/{d.ties}/{d.losses}\n")
        if d.dimensions:
            dims = "  ".join(
                f"{DIMENSION_LABELS.get(k, k)} {_num(v, 2)}" for k, v in d.dimensions.items()
            )
            text.append(f"{dims}\n", style="dim")
        if d.cost_usd or d.seconds:
            text.append(f"cost ${d.cost_usd:.2f}  time {d.seconds:.0f}s\n", style="dim")
        if d.failure:
            text.append("failure ", style="bold red")
            text.append(f"{d.failure}\n")
        return text

    @staticmethod
    def _cases(d: ExperimentDetail) -> RenderableType:
        if not d.cases:
            return ""
        text = Text()
        text.append("per case ", style="bold cyan")
        for case in d.cases:
            text.append(f"{case.case_id}:")
            text.append(case.outcome, style=OUTCOME_STYLES.get(case.outcome, ""))
            text.append(" ")
        return text

    @staticmethod
    def _diff(d: ExperimentDetail) -> RenderableType:
        title = Text(f"diff against {d.parent or 'its parent'}", style="bold cyan")
        if not d.diff.strip():
            return Group(title, Text("(no change to the agent)", style="dim"))
        return Group(title, Syntax(d.diff, "diff", theme="ansi_dark", word_wrap=True))

    @staticmethod
    def _diagram(d: ExperimentDetail) -> RenderableType:
        if not d.diagram.strip():
            return ""
        return Group(Text("process", style="bold cyan"), Text(d.diagram))

    @staticmethod
    def _reference_tables(d: ExperimentDetail) -> RenderableType:
        """Hook for reference analyses (cloud ceiling, coverage-blind re-judge)."""
        tables = []
        for title, header, rows in d.tables:
            table = Table(title=title, title_justify="left")
            for column in header:
                table.add_column(column)
            for row in rows:
                table.add_row(*row)
            tables.append(table)
        return Group(*tables) if tables else Text("(no tables)", style="dim")
