"""What the app reads from and writes to a workspace: the `Source` protocol.

`tui.workspace_source.WorkspaceSource` implements it over a real workspace; tests and snapshots
swap in `FixedSource` (tests/tui/snapshot_app.py). A contract test holds both to this protocol.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from orchestrator import control
from orchestrator.control import LiveStatus
from runlog.bisect import BisectProgress
from tui.views import BisectOutcome, ExperimentDetail, ExperimentRow, Summary

__all__ = ["BisectProgress", "Source"]


@runtime_checkable
class Source(Protocol):
    """Everything the app reads from and writes to a workspace.

    The app calls `version`, `events` and `status` once a second on the UI thread: they must stay
    cheap (file stats and small reads). `rows` and `summary` run when `version` changed;
    `detail`, `cases`, `write_report` and `bisect` run in worker threads.
    """

    workspace: Path

    def version(self) -> Any:
        """A cheap token that changes when the run log changes (mtimes)."""
        ...

    def summary(self) -> Summary:
        """The header: counts, the best so far, cost (no git status, no diff)."""
        ...

    def rows(self) -> list[ExperimentRow]:
        """Every experiment, then every reference record."""
        ...

    def detail(self, experiment_id: str) -> ExperimentDetail | None:
        """One row's detail with its diff; None for an id the workspace does not hold."""
        ...

    def cases(self, experiment_id: str) -> list[str]:
        """Each case of an experiment as text (`show NNN --cases`); empty when it has none."""
        ...

    def status(self) -> LiveStatus:
        """The loop's live status (`.autoresearch/live.json`)."""
        ...

    def events(self, offset: int) -> tuple[list[dict[str, Any]], int]:
        """Live events after `offset`, and the offset to read from next."""
        ...

    def send(
        self,
        kind: control.CommandKind,
        text: str = "",
        request: str | None = None,
        grant: control.TrainingGrant | None = None,
    ) -> control.ControlCommand:
        """Write a command to the loop's control channel (`grant`: an approval's training
        budget)."""
        ...

    def write_report(self) -> Path:
        """Write the HTML dashboard; its path."""
        ...

    def bisect(
        self,
        good: str,
        bad: str,
        check: str,
        gate: str | None,
        progress: BisectProgress | None,
    ) -> BisectOutcome:
        """The first kept experiment between `good` and `bad` that fails `check`."""
        ...
