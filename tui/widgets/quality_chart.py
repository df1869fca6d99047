"""Quality (or one dimension) over experiments: every run as a point, the kept line joined."""

from __future__ import annotations

from textual_plotext import PlotextPlot

from tui.views import ExperimentRow

STATUS_COLORS = {"kept": "green", "discarded": "orange", "failed": "red"}


def metric(row: ExperimentRow, dimension: str) -> float | None:
    return row.quality if dimension == "quality" else row.dimensions.get(dimension)


class QualityChart(PlotextPlot):
    """`show(rows, dimension)` replots; rows come in any order and are drawn by id."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.rows: list[ExperimentRow] = []
        self.dimension = "quality"

    def show(self, rows: list[ExperimentRow], dimension: str = "quality") -> None:
        self.rows = sorted((r for r in rows if not r.reference), key=lambda r: r.id)
        self.dimension = dimension
        self._plot_rows()
        self.refresh()

    def _plot_rows(self) -> None:
        plt = self.plt
        plt.clear_figure()
        label = "quality (0–1)" if self.dimension == "quality" else f"{self.dimension} (1–5)"
        plt.title(f"{label} over experiments · kept line: the current best agent")
        plt.xlabel("experiment")
        points = {
            r.id: (i + 1, metric(r, self.dimension), r.status) for i, r in enumerate(self.rows)
        }
        kept = [(x, y) for x, y, status in points.values() if status == "kept" and y is not None]
        if kept:
            xs, ys = self._steps(kept, len(self.rows))
            plt.plot(xs, ys, color="green", marker="braille", label="kept line")
        for status, color in STATUS_COLORS.items():
            mine = [(x, y) for x, y, s in points.values() if s == status and y is not None]
            if mine:
                xs, ys = zip(*mine, strict=True)
                plt.scatter(list(xs), list(ys), color=color, label=status, marker="●")
        if self.rows:
            step = max(1, len(self.rows) // 12)
            ticks = list(range(1, len(self.rows) + 1, step))
            plt.xticks(ticks, [self.rows[i - 1].id for i in ticks])

    @staticmethod
    def _steps(kept: list[tuple[int, float]], last_x: int) -> tuple[list[float], list[float]]:
        """The kept line as steps: each kept value holds until the next kept experiment."""
        xs: list[float] = []
        ys: list[float] = []
        for (x, y), nxt in zip(kept, [*kept[1:], (last_x, None)], strict=True):
            xs += [x, nxt[0]]
            ys += [y, y]
        return xs, ys
