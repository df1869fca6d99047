"""`WorkspaceSource`: the TUI's `Source` over a workspace folder, through `runlog` (records,
views, report, bisect) and `orchestrator.control` (live status, events, commands)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from orchestrator import control
from orchestrator.control import LiveStatus
from runlog.workspace import Workspace, WorkspaceError
from tui.rows import (
    case_outcomes,
    experiment_detail,
    reference_detail,
    reference_row,
    row_from_view,
    summary_of,
)
from tui.source import BisectProgress
from tui.views import (
    REFERENCE_PREFIX,
    BisectOutcome,
    ExperimentDetail,
    ExperimentRow,
    Summary,
)


class BisectUnresolved(Exception):
    """`git bisect run` ended without naming an experiment commit."""


class WorkspaceSource:
    """A `tui.source.Source` over a workspace; it reads, and writes only to the control channel."""

    def __init__(self, path: Path) -> None:
        self.ws = Workspace.open(path, repair=False)  # the loop repairs; the TUI only reads
        self.workspace = self.ws.root

    def version(self) -> Any:
        stamps = []
        for path in (self.ws.results_path, self.ws.experiments_dir, self.ws.reference_dir):
            try:
                stat = path.stat()
                stamps.append((stat.st_mtime_ns, stat.st_size))
            except OSError:
                stamps.append(None)
        return tuple(stamps)

    def summary(self) -> Summary:
        """The header from the records and the newest kept commit: no `git status`, no diff."""
        from runlog.gitstore import current_best
        from runlog.reference.headline import headline
        from runlog.reliability import keep_reliability, latest_recheck, recheck_text

        best = current_best(self.ws)
        summary = summary_of(
            self.ws.root.name,
            self.ws.config.researcher.spec,
            self.ws.records(),
            best.record if best else None,
        )
        return replace(
            summary,
            recheck=recheck_text(latest_recheck(self.ws)),
            false_keeps=keep_reliability(self.ws)["expected_false_keeps"],
            closeness=headline(self.ws).short(),
        )

    def rows(self) -> list[ExperimentRow]:
        from runlog.reference import references_view
        from runlog.views import log_view

        experiments = [row_from_view(v) for v in log_view(self.ws)]
        return experiments + [reference_row(v) for v in references_view(self.ws)]

    def detail(self, experiment_id: str) -> ExperimentDetail | None:
        """An experiment with its `git diff` (slow: the app calls this from a worker)."""
        from runlog.views import experiment_view

        if experiment_id.startswith(REFERENCE_PREFIX):
            return self._reference_detail(experiment_id)
        try:
            view = experiment_view(self.ws, experiment_id)
        except (WorkspaceError, ValueError):
            return None
        # ADAPTER: `experiment_view` carries no per-case outcomes, so they come from the record's
        # deciding gate (the same gate the view's numbers come from).
        return experiment_detail(view, case_outcomes(self.ws.record(view["id"]).result))

    def _reference_detail(self, row_id: str) -> ExperimentDetail | None:
        from runlog.reference import reference_view

        try:
            view = reference_view(self.ws, row_id.removeprefix(REFERENCE_PREFIX))
        except (WorkspaceError, ValueError):
            return None
        return reference_detail(view)

    def cases(self, experiment_id: str) -> list[str]:
        from orchestrator.cli.render_cases import case_text
        from runlog.cases import experiment_cases

        if experiment_id.startswith(REFERENCE_PREFIX):
            return []
        return [case_text(view) for view in experiment_cases(self.ws, experiment_id)]

    def status(self) -> LiveStatus:
        return control.read_status(self.workspace)

    def events(self, offset: int) -> tuple[list[dict[str, Any]], int]:
        """Live events after `offset`; from the start again if the stream was truncated."""
        path = control.control_dir(self.workspace) / "live.jsonl"
        if offset and (not path.exists() or path.stat().st_size < offset):
            offset = 0
        return control.read_live(self.workspace, offset)

    def send(
        self,
        kind: control.CommandKind,
        text: str = "",
        request: str | None = None,
        grant: control.TrainingGrant | None = None,
    ) -> control.ControlCommand:
        return control.send(self.workspace, kind, text=text, request=request, grant=grant)

    def write_report(self) -> Path:
        from runlog.report import write_dashboard

        return write_dashboard(self.ws)

    def bisect(
        self,
        good: str,
        bad: str,
        check: str,
        gate: str | None,
        progress: BisectProgress | None,
    ) -> BisectOutcome:
        from runlog.bisect import bisect

        result = bisect(self.ws, good=good, bad=bad, check=check, gate=gate, progress=progress)
        if result.experiment is None:
            tail = "\n".join(result.log.splitlines()[-3:])
            raise BisectUnresolved(f"bisect named no experiment: {tail}")
        return BisectOutcome(
            first_bad=result.experiment, hypothesis=result.hypothesis, message=result.subject
        )
