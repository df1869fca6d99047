"""The bisect dialog: good/bad refs and a check; runs in a worker, its bar moving with each
bisect step, and reports the first bad."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, ProgressBar, Static

from tui.views import BisectOutcome


class BisectScreen(ModalScreen[BisectOutcome | None]):
    """Dismissed with the outcome; the app then selects the first bad experiment."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, good: str = "", bad: str = "", gate: str = "dev-10") -> None:
        super().__init__(id="bisect")
        self.defaults = (good, bad, gate)

    def compose(self) -> ComposeResult:
        good, bad, gate = self.defaults
        with Vertical(classes="dialog"):
            yield Label("Bisect the kept line", classes="dialog-title")
            yield Input(good, placeholder="good ref, e.g. exp/001", id="good")
            yield Input(bad, placeholder="bad ref, e.g. exp/012", id="bad")
            yield Input(placeholder="check, e.g. coverage>=3 and quality>0.4", id="check")
            yield Input(gate, placeholder="gate", id="gate")
            yield ProgressBar(total=None, show_eta=False, id="bisect-progress")
            yield Static("", id="bisect-message")
            with Horizontal(classes="buttons"):
                yield Button("Run", variant="primary", id="run")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        good, bad, _ = self.defaults
        self.query_one("#check" if good and bad else "#good", Input).focus()

    def value(self, widget_id: str) -> str:
        return self.query_one(f"#{widget_id}", Input).value.strip()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.start()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "run":
            self.start()
        else:
            self.action_cancel()

    def start(self) -> None:
        good, bad, check = self.value("good"), self.value("bad"), self.value("check")
        if not (good and bad and check):
            self.message("give a good ref, a bad ref and a check")
            return
        self.query_one("#run", Button).disabled = True
        self.message(Text(f"bisecting {good}..{bad} for `{check}` …"))
        self.run_bisect(good, bad, check, self.value("gate") or None)

    def message(self, text: str | Text) -> None:
        self.query_one("#bisect-message", Static).update(text)

    def progress(self, step: int, total: int, commit: str) -> None:
        """Step `step` of about `total` starts on `commit`: the bar shows the steps done."""
        if not self.is_attached:
            return  # cancelled: the bisect thread runs on, the dialog is gone
        self.query_one("#bisect-progress", ProgressBar).update(total=total, progress=step - 1)
        self.message(Text(f"step {step} of ~{total}: checking {commit[:10]} …"))

    @work(thread=True, exclusive=True, exit_on_error=False, group="bisect")
    def run_bisect(self, good: str, bad: str, check: str, gate: str | None) -> None:
        def progress(step: int, total: int, commit: str) -> None:
            self.app.call_from_thread(self.progress, step, total, commit)

        try:
            outcome = self.app.source.bisect(good, bad, check, gate, progress)
        except Exception as exc:  # noqa: BLE001 (shown to the user, the TUI keeps running)
            self.app.call_from_thread(self.failed, str(exc))
            return
        self.app.call_from_thread(self.dismiss, outcome)

    def failed(self, error: str) -> None:
        self.message(Text.assemble(("bisect failed: ", "bold red"), error))
        self.query_one("#run", Button).disabled = False

    def action_cancel(self) -> None:
        self.workers.cancel_group(self, "bisect")
        self.dismiss(None)
