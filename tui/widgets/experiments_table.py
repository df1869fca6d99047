"""The experiments table: one row per experiment, newest first, sortable, updated in place."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from tui.numbers import MISSING, number
from tui.views import DIMENSION_LABELS, ExperimentRow

STATUS_STYLES = {"kept": "green", "discarded": "yellow", "failed": "red", "reference": "cyan"}
COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "id"),
    ("status", "status"),
    ("lever_class", "lever"),
    ("gate", "gate"),
    ("quality", "quality"),
    ("delta", "Δ parent"),
    *((dim, label) for dim, label in DIMENSION_LABELS.items()),
    ("wtl", "W/T/L"),
)


def _number(value: float | None, digits: int = 2, signed: bool = False) -> Text:
    if value is None:
        return Text(MISSING, style="dim", justify="right")
    style = ("green" if value > 0 else "red" if value < 0 else "") if signed else ""
    return Text(number(value, digits, signed=signed), style=style, justify="right")


def sort_value(row: ExperimentRow, column: str) -> Any:
    """The value a column sorts by; missing numbers sort below every number."""
    if column in ("quality", "delta"):
        value = getattr(row, column)
    elif column in DIMENSION_LABELS:
        value = row.dimensions.get(column)
    elif column == "wtl":
        value = row.wins + row.ties / 2
    else:
        return (row.reference, str(getattr(row, column)))
    return (row.reference, value is not None, value if value is not None else 0.0)


class ExperimentsTable(DataTable):
    """`show(rows)` redraws only when the rows changed and keeps the selected experiment."""

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.rows_shown: list[ExperimentRow] = []
        self.sort_column = "id"
        self.sort_reverse = True

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    @property
    def selected_id(self) -> str | None:
        if not self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return row_key.value

    def show(self, rows: list[ExperimentRow]) -> None:
        if rows == self.rows_shown:
            return
        self.rows_shown = list(rows)
        self._redraw()

    def sort_by(self, column: str) -> None:
        """Sort by a column; the same column again flips the order."""
        if column == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column, self.sort_reverse = column, column != "status"
        self._redraw()

    def select(self, experiment_id: str) -> bool:
        try:
            index = self.get_row_index(experiment_id)
        except Exception:  # noqa: BLE001 (a row key the table does not hold)
            return False
        self.move_cursor(row=index)
        return True

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_by(str(event.column_key.value))

    def _redraw(self) -> None:
        selected = self.selected_id
        ordered = sorted(
            (r for r in self.rows_shown if not r.reference),
            key=lambda r: sort_value(r, self.sort_column),
            reverse=self.sort_reverse,
        )
        ordered += [r for r in self.rows_shown if r.reference]
        self.clear()
        for row in ordered:
            self.add_row(*self._cells(row), key=row.id)
        if selected is None or not self.select(selected):
            self.move_cursor(row=0)

    @staticmethod
    def _cells(row: ExperimentRow) -> list:
        status = Text(row.status, style=STATUS_STYLES.get(row.status, ""))
        dims = [_number(row.dimensions.get(dim)) for dim in DIMENSION_LABELS]
        return [
            Text(row.id, style="bold"),
            status,
            row.lever_class,
            row.gate,
            _number(row.quality, 3),
            _number(row.delta, 3, signed=True),
            *dims,
            Text(MISSING, style="dim", justify="right")
            if row.reference  # a reference row's W/T/L lives in its detail tables
            else Text(f"{row.wins}/{row.ties}/{row.losses}", justify="right"),
        ]
