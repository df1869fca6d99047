"""The per-case view of one experiment: each case's plan, problems, scores and the judge's
rationale — the same text as `autoresearch show NNN --cases`."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static


class CasesScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,v,q", "app.pop_screen", "Close")]

    def __init__(self, experiment_id: str, cases: list[str]) -> None:
        super().__init__(id="cases")
        self.experiment_id = experiment_id
        self.cases = cases

    def compose(self) -> ComposeResult:
        text = (
            "\n\n".join(self.cases) or "no per-case outputs recorded (a failed experiment has none)"
        )
        with Vertical(classes="dialog"):
            yield Label(f"exp {self.experiment_id}: cases", classes="dialog-title")
            with VerticalScroll():
                yield Static(text, markup=False, id="cases-text")
