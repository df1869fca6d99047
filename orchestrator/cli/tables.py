"""Result tables that fit the terminal (80 columns included) without cutting a header.

`fit(table, width)` lets every column wrap between words, never below its header's longest
word, and switches to a compact border when the table would be wider than `width`; tables
with the five rubric dimensions use `DIMENSION_HEADERS` (short names) and `DIMENSION_LEGEND`
as their caption.
"""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table

DIMENSION_HEADERS: dict[str, str] = {
    "atomicity": "atom",
    "specificity": "spec",
    "coverage": "cov",
    "naturalness": "nat",
    "non_redundancy": "nonred",
}
MAX_WORD = 20  # longest cell word kept whole when the table allows it
DIMENSION_LEGEND = " · ".join(f"{short} = {name}" for name, short in DIMENSION_HEADERS.items())


def dimension_header(dimension: str) -> str:
    """The short header of a rubric dimension (the name itself for an unknown one)."""
    return DIMENSION_HEADERS.get(dimension, dimension)


def _plain(renderable) -> str:
    return renderable.plain if hasattr(renderable, "plain") else str(renderable)


def _longest_word(text: str) -> int:
    return max((len(word) for word in text.split()), default=0)


def _compact(table: Table) -> None:
    table.box = box.SIMPLE_HEAD
    table.show_edge = False
    table.pad_edge = False
    table.collapse_padding = True


def fit(table: Table, width: int) -> Table:
    """Make `table` fit `width` columns with every header whole; returns the same table.

    Columns wrap between words; none gets narrower than its header's longest word, nor (when
    the table still fits) than its cells' longest word up to `MAX_WORD`, so names stay whole.
    """
    measure = Console(width=10_000).measure
    for column in table.columns:
        column.no_wrap, column.overflow = False, "fold"
        column.min_width = max(column.min_width or 0, _longest_word(_plain(column.header)))
    if measure(table).maximum > width:
        _compact(table)
    headers_only = [column.min_width for column in table.columns]
    for column in table.columns:
        cells = max((_longest_word(_plain(cell)) for cell in column.cells), default=0)
        column.min_width = max(column.min_width, min(cells, MAX_WORD))
    if measure(table).minimum > width:
        for column, minimum in zip(table.columns, headers_only, strict=True):
            column.min_width = minimum
    return table


def print_table(table: Table, console: Console | None = None) -> None:
    """Print a table fitted to the console's width."""
    console = console or Console()
    console.print(fit(table, console.width))
