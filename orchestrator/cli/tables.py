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
DIMENSION_LEGEND = " · ".join(f"{short} = {name}" for name, short in DIMENSION_HEADERS.items())


def dimension_header(dimension: str) -> str:
    """The short header of a rubric dimension (the name itself for an unknown one)."""
    return DIMENSION_HEADERS.get(dimension, dimension)


def _header_text(column) -> str:
    header = column.header
    return header.plain if hasattr(header, "plain") else str(header)


def fit(table: Table, width: int) -> Table:
    """Make `table` fit `width` columns with every header whole; returns the same table."""
    for column in table.columns:
        words = _header_text(column).split() or [""]
        column.no_wrap = False
        column.overflow = "fold"
        column.min_width = max(column.min_width or 0, max(map(len, words)))
    if Console(width=10_000).measure(table).maximum > width:
        table.box = box.SIMPLE_HEAD
        table.show_edge = False
        table.pad_edge = False
        table.collapse_padding = True
    return table


def print_table(table: Table, console: Console | None = None) -> None:
    """Print a table fitted to the console's width."""
    console = console or Console()
    console.print(fit(table, console.width))
