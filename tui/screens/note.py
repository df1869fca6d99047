"""A one-line note to the researcher, sent through the control channel."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class NoteScreen(ModalScreen[str | None]):
    """Enter sends the note (dismissed with its text); Escape cancels (dismissed with None)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self) -> None:
        super().__init__(id="note")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Note to the researcher", classes="dialog-title")
            yield Input(placeholder="e.g. focus rag, avoid decoding", id="note-input")
            yield Label("enter send · esc cancel", classes="dialog-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
