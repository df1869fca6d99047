"""The help screen: what each key does."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

KEYS: tuple[tuple[str, str], ...] = (
    ("n", "send a note to the researcher (read at its next proposal)"),
    ("p", "pause after the current node / resume"),
    ("s", "stop after the current experiment"),
    ("a / d", "open the pending training request on Approve / Deny (enter decides; n: a note)"),
    ("c", "chart: quality or a rubric dimension over experiments ([ ] switch)"),
    ("v", "the selected experiment's cases: plan, problems, scores, the judge's rationale"),
    ("b", "bisect the kept line for the first experiment that breaks a check"),
    ("r", "write the HTML report (runlog/dashboard.html) and show its path"),
    ("click header", "sort the table by that column (again: reverse)"),
    ("?", "this help"),
    ("q", "quit (a loop this TUI attached to keeps running; one it started is stopped)"),
)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "app.pop_screen", "Close")]

    def __init__(self) -> None:
        super().__init__(id="help")

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        for key, text in KEYS:
            table.add_row(key, text)
        with Vertical(classes="dialog"):
            yield Label("Keys", classes="dialog-title")
            yield Static(table)
            yield Label("esc close", classes="dialog-hint")
