"""Result tables that fit the terminal (80 columns included) without cutting a header.

`fit(table, width)` lets every column wrap between words, never below its header's longest
word, and switches to a compact border when the table would be wider than `width`; tables
with the five rubric dimensions use `DIMENSION_HEADERS` (short names) and `DIMENSION_LEGEND`
as their caption.
"""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.errors import MarkupError
from rich.table import Table
from rich.text import Text

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
    """The text a cell shows: markup (`[red]failed[/red]`) does not count toward its width."""
    if hasattr(renderable, "plain"):
        return renderable.plain
    try:
        return Text.from_markup(str(renderable)).plain
    except MarkupError:
        return str(renderable)


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
    When even that is too wide, the columns with the longest words give up their cell minimum
    first, one at a time, so short names (a lever class, a status) are the last to fold.
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
    # still too wide: give up whole words first in the column whose longest word is longest
    # (prose wraps; a name or a number should stay whole), one column at a time
    for column, minimum in sorted(
        zip(table.columns, headers_only, strict=True), key=lambda pair: -(pair[0].min_width or 0)
    ):
        if measure(table).minimum <= width:
            break
        column.min_width = minimum
    if measure(table).maximum > width:
        _share_width(table, width)
    return table


def _longest_line(cells: list) -> int:
    return max((len(line) for cell in cells for line in _plain(cell).splitlines()), default=0)


def _share_width(table: Table, width: int) -> None:
    """Fix each column's width: its minimum; then whole words, cheapest columns first (a
    status or a lever class costs a few characters); then the rest of the room in proportion
    to how much more each could show (rich's own squeeze may go below a column's minimum)."""
    columns = table.columns
    mins = [column.min_width or 0 for column in columns]
    for column, low in zip(columns, mins, strict=True):
        column.width = low
    chrome = Console(width=10_000).measure(table).maximum - sum(mins)  # borders and padding
    room = max(0, width - chrome - sum(mins))
    widths = list(mins)
    words = [
        max(low, min(MAX_WORD, max((_longest_word(_plain(c)) for c in column.cells), default=0)))
        for column, low in zip(columns, mins, strict=True)
    ]
    for i in sorted(range(len(columns)), key=lambda i: words[i] - mins[i]):
        grant = min(room, words[i] - widths[i])
        widths[i], room = widths[i] + grant, room - grant
    wants = [
        max(w, _longest_line([column.header, *column.cells]))
        for column, w in zip(columns, widths, strict=True)
    ]
    more = [want - w for want, w in zip(wants, widths, strict=True)]
    total = sum(more) or 1
    shares = [min(m, room * m // total) for m in more]
    leftover = room - sum(shares)
    for i in sorted(range(len(columns)), key=lambda i: -more[i]):
        if leftover <= 0:
            break
        if shares[i] < more[i]:
            shares[i], leftover = shares[i] + 1, leftover - 1
    for column, w, share in zip(columns, widths, shares, strict=True):
        column.width = w + share


def print_table(table: Table, console: Console | None = None) -> None:
    """Print a table fitted to the console's width."""
    console = console or Console()
    console.print(fit(table, console.width))
