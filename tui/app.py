"""The supervisor's app: watch the loop live, steer it, approve training, inspect and bisect.

The app polls the workspace (the run log, `.autoresearch/live.json` and `live.jsonl`) through a
`Source`, hands what it reads to the widgets, and writes commands to the control channel. It
attaches to a loop already running on the workspace, or starts one in a thread worker.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from orchestrator.control import CommandKind, LiveStatus, TrainingGrant
from tui.screens.approval import ApprovalDecision, ApprovalScreen, Decision
from tui.screens.bisect import BisectScreen
from tui.screens.cases import CasesScreen
from tui.screens.chart import ChartScreen
from tui.screens.help import HelpScreen
from tui.screens.main import MainScreen
from tui.screens.note import NoteScreen
from tui.screens.report import ReportScreen
from tui.source import Source
from tui.views import BisectOutcome, ExperimentDetail, ExperimentRow, TrainingRequest
from tui.widgets.detail_pane import DetailPane
from tui.widgets.event_stream import EventStream
from tui.widgets.experiments_table import ExperimentsTable
from tui.widgets.status_bar import StatusBar

LoopRunner = Callable[..., Any]
EVENT_BACKLOG = 200  # events shown from before the TUI attached
DETAIL_DELAY = 0.15  # seconds the table cursor rests before the detail pane follows


class AutoresearchApp(App[None]):
    """`AutoresearchApp(source, start=True)` starts a loop here; without it the app attaches."""

    CSS_PATH = "app.tcss"
    TITLE = "autoresearch"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [Binding("ctrl+q", "quit_tui", "Quit", show=False, priority=True)]

    def __init__(
        self,
        source: Source,
        *,
        start: bool = False,
        experiments: int | None = None,
        loop_runner: LoopRunner | None = None,
        poll_interval: float | None = 1.0,
    ) -> None:
        super().__init__()
        self.source = source
        self.start_loop_on_mount = start
        self.experiments = experiments
        self.loop_runner = loop_runner
        self.poll_interval = poll_interval
        self.rows: list[ExperimentRow] = []
        self.live = LiveStatus()
        self.loop_worker: Worker | None = None
        self._version: Any = None
        self._event_offset = 0
        self._answered: set[str] = set()
        self._deferred: str | None = None
        self._toggle_pending: str | None = None
        self._quitting = False
        self._last_error = ""
        self._detail_timer: Timer | None = None
        self._detail_wanted: str | None = None
        self.main: MainScreen

    # --- setup and polling ------------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        self.main = MainScreen(id="main")
        return self.main

    def main_ready(self) -> None:
        """Called by the main screen once its widgets exist: first poll, timer, loop."""
        self.refresh_from_workspace()
        if self.poll_interval:
            self.set_interval(self.poll_interval, self.refresh_from_workspace)
        if self.start_loop_on_mount:
            self.start_loop()

    @property
    def table(self) -> ExperimentsTable:
        return self.main.query_one(ExperimentsTable)

    @property
    def event_stream(self) -> EventStream:
        return self.main.query_one(EventStream)

    def refresh_from_workspace(self) -> None:
        """One poll: reload the run log if it changed, append new live events, follow the state."""
        if not self.main.is_attached or not self.main.query(EventStream):
            return  # shutting down: the widgets are gone
        try:
            self._refresh_log()
            first = self._event_offset == 0
            events, self._event_offset = self.source.events(self._event_offset)
            self.event_stream.add_events(events[-EVENT_BACKLOG:] if first else events)
            self._follow_status(self.source.status())
        except Exception as exc:  # noqa: BLE001 (a half-written file; the next poll retries)
            if str(exc) != self._last_error:
                self._last_error = str(exc)
                self.say(f"could not read the workspace: {exc}", kind="error")

    def _refresh_log(self) -> None:
        version = self.source.version()
        if version == self._version:
            return
        self.rows = self.source.rows()
        summary = self.source.summary()
        self._version = version  # only once read: a failed read is retried at the next poll
        self.table.show(self.rows)
        self.main.query_one(StatusBar).show(summary=summary)
        if isinstance(self.screen, ChartScreen):
            self.screen.show(self.rows)
        if self.table.selected_id:
            self.show_detail(self.table.selected_id, force=True)

    def _follow_status(self, live: LiveStatus) -> None:
        self.live = live
        self.main.query_one(StatusBar).show(live=live)
        if (
            self._toggle_pending == "pause"
            and live.state == "paused"
            or self._toggle_pending == "resume"
            and live.state != "paused"
        ):
            self._toggle_pending = None
        request = live.pending_request
        if not request:
            return
        request_id = TrainingRequest.from_payload(request).id
        if request_id in self._answered or request_id == self._deferred:
            return
        if self.screen is self.main:
            self.open_approval()

    def say(self, text: str, kind: str = "tui") -> None:
        """A line of the TUI's own in the event stream (kept out of the workspace's files)."""
        self.event_stream.add_events([{"kind": kind, "text": text}])

    def show_detail_soon(self, experiment_id: str) -> None:
        """Show an experiment once the cursor rests on it (a detail runs `git diff`)."""
        if self._detail_timer is not None:
            self._detail_timer.stop()
        self._detail_timer = self.set_timer(DETAIL_DELAY, lambda: self.show_detail(experiment_id))

    def _detail_pane(self) -> DetailPane | None:
        """The pane, or None while shutting down (a timer fired after the widgets went)."""
        return self.main.query(DetailPane).first() if self.main.query(DetailPane) else None

    def show_detail(self, experiment_id: str, force: bool = False) -> None:
        """Load an experiment's detail (its `git diff`) in a worker; the pane follows."""
        pane = self._detail_pane()
        if pane is None:
            return
        if not force and pane.detail is not None and pane.detail.id == experiment_id:
            return
        self._detail_wanted = experiment_id
        self.load_detail(experiment_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="detail")
    def load_detail(self, experiment_id: str) -> None:
        try:
            detail = self.source.detail(experiment_id)
        except Exception as exc:  # noqa: BLE001 (one unreadable record must not end the TUI)
            self.call_from_thread(self.say, f"could not show {experiment_id}: {exc}", "error")
            return
        self.call_from_thread(self.detail_loaded, experiment_id, detail)

    def detail_loaded(self, experiment_id: str, detail: ExperimentDetail | None) -> None:
        """Show a loaded detail unless the cursor moved on while it loaded."""
        pane = self._detail_pane()
        if pane is not None and experiment_id == self._detail_wanted:
            pane.show(detail)

    # --- steering ---------------------------------------------------------------------------

    def send(
        self,
        kind: CommandKind,
        text: str = "",
        request: str | None = None,
        grant: TrainingGrant | None = None,
    ) -> None:
        self.source.send(kind, text=text, request=request, grant=grant)

    def action_note(self) -> None:
        def sent(text: str | None) -> None:
            if text:
                self.send("note", text)
                self.say(f"note sent: {text}")

        self.push_screen(NoteScreen(), sent)

    def action_pause_resume(self) -> None:
        live = self.source.status()
        if live.state == "stopped":
            self.notify("no loop is running on this workspace", severity="warning")
            return
        paused = live.state == "paused"
        if self._toggle_pending is not None:
            paused = self._toggle_pending == "pause"
        kind: CommandKind = "resume" if paused else "pause"
        self.send(kind)
        self._toggle_pending = kind
        self.say("resume sent" if paused else "pause sent: the loop pauses after this node")

    def action_stop(self) -> None:
        if self.source.status().state == "stopped":
            self.notify("no loop is running on this workspace", severity="warning")
            return
        self.send("stop")
        self.say("stop sent: the loop stops after the current experiment")

    def action_approval(self, kind: Decision = "approve") -> None:
        """`a`/`d` open the pending request's modal on its Approve/Deny button; the decision is
        made there (Enter), with an optional note."""
        if not self.source.status().pending_request:
            self.notify("no training request is pending")
            return
        self._deferred = None
        self.open_approval(kind)

    def open_approval(self, intent: Decision = "approve") -> None:
        payload = self.live.pending_request or self.source.status().pending_request
        if not payload or isinstance(self.screen, ApprovalScreen):
            return
        request = TrainingRequest.from_payload(payload)

        def decided(decision: ApprovalDecision | None) -> None:
            if decision is None:
                self._deferred = request.id
                self.say("training request left pending (a/d to decide)")
                return
            self._answered.add(decision.request)
            grant = decision.grant
            self.send(decision.kind, text=decision.note, request=decision.request, grant=grant)
            budget = f" with a budget of {grant.trainings} trainings" if grant else ""
            self.say(f"{decision.kind} sent for {decision.request}{budget}")

        self.push_screen(ApprovalScreen(request, intent), decided)

    # --- views ------------------------------------------------------------------------------

    def action_chart(self) -> None:
        self.push_screen(ChartScreen(self.rows))

    def action_cases(self) -> None:
        pane = self._detail_pane()
        if pane is None or pane.detail is None:
            self.say("select an experiment first")
            return
        self.load_cases(pane.detail.id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="cases")
    def load_cases(self, experiment_id: str) -> None:
        try:
            cases = self.source.cases(experiment_id)
        except Exception as exc:  # noqa: BLE001 (an unreadable record must not end the TUI)
            self.call_from_thread(self.say, f"could not show the cases of {experiment_id}: {exc}")
            return
        self.call_from_thread(self.push_screen, CasesScreen(experiment_id, cases))

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_bisect(self) -> None:
        kept = sorted(r.id for r in self.rows if r.status == "kept" and not r.reference)
        good = f"exp/{kept[0]}" if kept else ""
        bad = f"exp/{kept[-1]}" if len(kept) > 1 else ""
        self.push_screen(BisectScreen(good=good, bad=bad), self.bisected)

    def bisected(self, outcome: BisectOutcome | None) -> None:
        if outcome is None:
            return
        found = self.table.select(outcome.first_bad)
        if found:
            self.table.focus()
            self.show_detail(outcome.first_bad)
        text = f"first bad experiment: {outcome.first_bad} {outcome.hypothesis}".strip()
        self.say(text, kind="bisect")
        self.notify(text, timeout=10)

    def action_report(self) -> None:
        self.say("writing the report …")
        self.write_report()

    @work(thread=True, exclusive=True, exit_on_error=False, group="report")
    def write_report(self) -> None:
        try:
            path = self.source.write_report()
        except Exception as exc:  # noqa: BLE001 (shown, never fatal)
            self.call_from_thread(self.say, f"report failed: {exc}", "error")
            return
        self.call_from_thread(self.report_written, path)

    def report_written(self, path: Path) -> None:
        self.say(f"report: {path}")
        self.push_screen(ReportScreen(path))

    # --- the loop ---------------------------------------------------------------------------

    def start_loop(self) -> None:
        if self.source.status().state != "stopped":
            self.say("a loop is already running on this workspace: attached to it")
            return
        self.say("starting the loop in this process")
        self.loop_worker = self.run_loop_worker()

    @work(thread=True, exit_on_error=False, group="loop", name="loop")
    def run_loop_worker(self) -> Any:
        runner = self.loop_runner
        if runner is None:
            from orchestrator.loop import run_loop as runner
        return runner(self.source.workspace, experiments=self.experiments)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self.loop_worker:
            return
        if event.state == WorkerState.ERROR:
            self.say(f"the loop failed: {event.worker.error}", kind="error")
        elif event.state == WorkerState.SUCCESS:
            self.say("the loop finished")
        if event.state in (WorkerState.ERROR, WorkerState.SUCCESS, WorkerState.CANCELLED):
            self.refresh_from_workspace()
            if self._quitting:
                self.exit()

    @property
    def loop_running_here(self) -> bool:
        return self.loop_worker is not None and not self.loop_worker.is_finished

    def action_quit_tui(self) -> None:
        """Quit; a loop started here is asked to stop first (q again quits without waiting)."""
        if not self.loop_running_here:
            self.exit()
            return
        if self._quitting:
            self.exit(message="waiting for the loop to stop after its current experiment …")
            return
        self._quitting = True
        self.send("stop")
        message = "stopping the loop started here after its current experiment; q again to quit now"
        self.say(message)
        self.notify(message, timeout=10)
