"""The training-request modal: what the researcher asks for and why; approve or deny."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static


@dataclass(frozen=True)
class ApprovalDecision:
    kind: str  # "approve" | "deny"
    request: str
    note: str = ""


def request_table(request: dict[str, Any]) -> Table:
    """The request's fields as a two-column table (rendering only)."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    seconds = request.get("estimated_seconds")
    experiments = request.get("experiments") or []
    rows = [
        ("request", str(request.get("id", ""))),
        ("kind", str(request.get("kind", ""))),
        ("rationale", str(request.get("rationale", ""))),
        ("data size", str(request.get("data_size", "—"))),
        ("estimated", f"{seconds:.0f} s" if isinstance(seconds, int | float) else "—"),
        ("led to it", ", ".join(str(e) for e in experiments) or "—"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


class ApprovalScreen(ModalScreen[ApprovalDecision | None]):
    """`a` approves, `d` denies (with the note typed, if any); Escape decides later."""

    AUTO_FOCUS = "#approve"  # not the note input, so `a` and `d` act at once
    BINDINGS = [
        Binding("a", "decide('approve')", "Approve"),
        Binding("d", "decide('deny')", "Deny"),
        Binding("escape", "later", "Later"),
        Binding("n", "note", "Note"),
    ]

    def __init__(self, request: dict[str, Any]) -> None:
        super().__init__(id="approval")
        self.request = request

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Training request", classes="dialog-title")
            yield Static(request_table(self.request), id="request")
            yield Input(placeholder="optional note: n to type, enter when done", id="approval-note")
            with Horizontal(classes="buttons"):
                yield Button("Approve (a)", variant="success", id="approve")
                yield Button("Deny (d)", variant="error", id="deny")
                yield Button("Later (esc)", id="later")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "later":
            self.action_later()
        else:
            self.action_decide(str(event.button.id))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#approve", Button).focus()

    def action_note(self) -> None:
        self.query_one("#approval-note", Input).focus()

    def action_decide(self, kind: str) -> None:
        note = self.query_one("#approval-note", Input).value.strip()
        self.dismiss(
            ApprovalDecision(kind=kind, request=str(self.request.get("id", "")), note=note)
        )

    def action_later(self) -> None:
        self.dismiss(None)
