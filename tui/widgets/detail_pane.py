"""The detail pane: the selected experiment's hypothesis, result, per-case W/L, diff, diagram;
for a reference record, its summary and its tables (cloud ceiling, re-judge)."""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui.numbers import number
from tui.views import DIMENSION_LABELS, DetailTable, ExperimentDetail

OUTCOME_STYLES = {"W": "green", "T": "yellow", "L": "red"}


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
            middle, diff = self._reference_tables(detail), ""
        else:
            middle, diff = self._cases(detail), self._diff(detail)
        self._set(self._summary(detail), middle, diff, self._diagram(detail))
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
            text.append(f"  {'from' if d.reference else 'parent'} {d.parent}", style="dim")
        if d.tag or d.commit:
            text.append(f"  {d.tag or 'commit'} {d.commit[:10]}".rstrip(), style="dim")
        text.append("\n")
        text.append("title " if d.reference else "hypothesis ", style="bold cyan")
        text.append(f"{d.hypothesis or '—'}\n")
        if d.method:
            text.append("about " if d.reference else "method ", style="bold cyan")
            text.append(f"{d.method}\n")
        text.append("result ", style="bold cyan")
        text.append(f"{d.gate} quality {number(d.quality)}")
        if d.interval is not None:
            text.append(f" [{number(d.interval[0])}, {number(d.interval[1])}]")
        if d.delta is not None:
            style = "green" if d.delta > 0 else "red"
            text.append(f"  Δ {number(d.delta, signed=True)}", style=style)
        text.append(f"  W/T/L {d.wins}/{d.ties}/{d.losses}\n")
        if d.dimensions:
            dims = "  ".join(
                f"{DIMENSION_LABELS.get(k, k)} {number(v, 2)}" for k, v in d.dimensions.items()
            )
            text.append(f"{dims}\n", style="dim")
        if d.predicted_delta is not None:
            text.append("predicted ", style="bold cyan")
            text.append(f"Δ {number(d.predicted_delta, signed=True)}  observed ")
            text.append(
                "—\n"
                if d.observed_delta is None
                else f"Δ {number(d.observed_delta, signed=True)}\n"
            )
        if d.cost_usd or d.seconds:
            text.append(f"cost ${d.cost_usd:.2f}  time {d.seconds:.0f}s", style="dim")
            if d.predicted_seconds and d.observed_seconds:
                text.append(
                    f"  keep gate {d.observed_seconds:.0f}s (predicted {d.predicted_seconds:.0f}s)",
                    style="dim",
                )
            text.append("\n")
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
        """A reference record's tables (cloud ceiling, scored as candidate, re-judge)."""
        if not d.tables:
            return Text("(no tables)", style="dim")
        parts: list[RenderableType] = []
        for spec in d.tables:
            parts += [rich_table(spec), Text("")]
        return Group(*parts)


def rich_table(spec: DetailTable) -> Table:
    """A `DetailTable` as a compact rich table for a narrow pane: the first column (the row's
    name) wraps, the others do not; numbers align right; the record's own rows are bold."""
    table = Table(
        title=Text(spec.title, style="bold cyan"),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    for index, column in enumerate(spec.columns):
        justify = "right" if index in spec.numeric else "left"
        table.add_column(Text(column), justify=justify, no_wrap=index > 0)
    names = [word for row in spec.rows for word in row[0].split()] if spec.columns else []
    if names:  # the name column wraps between words, never inside one
        table.columns[0].min_width = min(max(map(len, names)), 24)
    for index, row in enumerate(spec.rows):
        cells = (Text(cell) for cell in row)  # literal text: "[ref001]" is no markup
        table.add_row(*cells, style="bold" if index in spec.highlight else None)
    return table
