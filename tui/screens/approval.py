"""The training-request modal: what the researcher asks for and why, whether this machine can
train it at all; approve (only when it can) or deny."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from orchestrator.control import TrainingGrant
from tui.numbers import MISSING, count
from tui.views import TrainingRequest

Decision = Literal["approve", "deny"]


@dataclass(frozen=True)
class ApprovalDecision:
    kind: Decision
    request: str
    note: str = ""
    grant: TrainingGrant | None = None  # trainings approved at once (the track as a search)


def request_table(request: TrainingRequest) -> Table:
    """The request's fields as a two-column table (rendering only)."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    seconds = request.estimated_seconds
    rows = [
        ("request", request.id),
        ("kind", request.kind or MISSING),
        ("model", request.model or MISSING),
        ("rationale", request.rationale or MISSING),
        ("data size", count(request.data_size)),
        ("estimated", f"{seconds:.0f} s" if seconds is not None else MISSING),
        ("led to it", ", ".join(request.experiments) or MISSING),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def trainable_line(request: TrainingRequest) -> Text:
    """Whether this machine can train the request, and why not: the first thing to read."""
    if request.trainable_here:
        return Text.assemble(("✔ trainable here", "bold green"), _reason(request))
    return Text.assemble(
        ("✘ cannot train here", "bold red"),
        _reason(request),
        ("\napproving is disabled: deny it, or train elsewhere", "red"),
    )


def _reason(request: TrainingRequest) -> str:
    return f": {request.reason}" if request.reason else ""


class ApprovalScreen(ModalScreen[ApprovalDecision | None]):
    """`a` approves (when trainable here), `d` denies (with the note typed, if any); Escape
    decides later. `intent` is the key that opened it: its button has the focus."""

    AUTO_FOCUS = None  # focus goes to the intended button in on_mount, never to the note
    BINDINGS = [
        Binding("a", "decide('approve')", "Approve"),
        Binding("d", "decide('deny')", "Deny"),
        Binding("escape", "later", "Later"),
        Binding("n", "note", "Note"),
        Binding("t", "trainings", "Trainings"),
    ]

    def __init__(self, request: TrainingRequest, intent: Decision = "approve") -> None:
        super().__init__(id="approval")
        self.request = request
        self.intent: Decision = intent if request.trainable_here else "deny"

    def compose(self) -> ComposeResult:
        trainable = "trainable" if self.request.trainable_here else "untrainable"
        with Vertical(classes="dialog"):
            yield Label("Training request", classes="dialog-title")
            yield Static(trainable_line(self.request), id="trainable", classes=trainable)
            yield Static(request_table(self.request), id="request")
            yield Input(placeholder="optional note: n to type, enter when done", id="approval-note")
            yield Input(
                value="1",
                placeholder="trainings to approve (t): this one and the next N-1 asked for",
                type="integer",
                id="approval-trainings",
                tooltip="A training budget: later requests within it are approved unasked",
            )
            with Horizontal(classes="buttons"):
                yield Button(
                    "Approve (a)",
                    variant="success",
                    id="approve",
                    disabled=not self.request.trainable_here,
                )
                yield Button("Deny (d)", variant="error", id="deny")
                yield Button("Later (esc)", id="later")

    def on_mount(self) -> None:
        self.query_one(f"#{self.intent}", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "later":
            self.action_later()
        elif event.button.id in ("approve", "deny"):
            self.action_decide(event.button.id)  # type: ignore[arg-type]

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one(f"#{self.intent}", Button).focus()

    def action_note(self) -> None:
        self.query_one("#approval-note", Input).focus()

    def action_trainings(self) -> None:
        self.query_one("#approval-trainings", Input).focus()

    def grant(self) -> TrainingGrant | None:
        """The training budget typed (more than this one training), or None."""
        typed = self.query_one("#approval-trainings", Input).value.strip()
        trainings = int(typed) if typed.isdigit() else 1
        return TrainingGrant(trainings=trainings) if trainings > 1 else None

    def action_decide(self, kind: Decision) -> None:
        if kind == "approve" and not self.request.trainable_here:
            self.notify(f"cannot approve: {self.request.reason or 'not trainable here'}")
            return
        note = self.query_one("#approval-note", Input).value.strip()
        grant = self.grant() if kind == "approve" else None
        self.dismiss(ApprovalDecision(kind=kind, request=self.request.id, note=note, grant=grant))

    def action_later(self) -> None:
        self.dismiss(None)
