"""Shows where the HTML report was written."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static


class ReportScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,enter,r,q", "app.pop_screen", "Close")]

    def __init__(self, path: Path) -> None:
        super().__init__(id="report")
        self.path = path

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Report written", classes="dialog-title")
            yield Static(str(self.path), id="report-path")
            yield Label("open it in a browser · esc close", classes="dialog-hint")
