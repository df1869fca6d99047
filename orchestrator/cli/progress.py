"""The command line's one progress display: a rich bar per stage on stderr when it is a
terminal, else one plain line per case batch on the process's stderr (a log file, a pipe), so a
12-minute `eval --compare` is never silent.

    with StageProgress() as bar:
        evaluate_workspace(ws, progress=bar.callback)      # (stage, done, total)
        build_ruler(..., progress=bar.stage("gold plans"))  # (done, total)

Plain lines go to `sys.__stderr__`, the process's own, never to a captured `sys.stderr`
(click's test runner mixes that into the command's output, which may be JSON).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)


class StageProgress:
    """Progress bars keyed by stage name, added on a stage's first report."""

    def __init__(self, *, transient: bool = True, plain: TextIO | None = None) -> None:
        self.bar: Progress | None = None
        self.plain = plain if plain is not None else sys.__stderr__
        self.reported: dict[str, int] = {}  # stage -> done, as last printed
        self.started = time.monotonic()
        if sys.stderr.isatty():
            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[note]}"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=transient,
            )
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> StageProgress:
        if self.bar is not None:
            self.bar.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)

    @property
    def callback(self) -> Callable[[str, int, int], None] | None:
        """`update` (the `progress=` argument of the run log's calls); None only when there is
        nowhere to report (no stderr at all)."""
        return self.update if self.bar is not None or self.plain is not None else None

    def update(self, stage: str, done: int, total: int | None, note: str = "") -> None:
        if self.bar is None:
            self._line(stage, done, total, note)
            return
        if stage not in self.tasks:
            self.tasks[stage] = self.bar.add_task(stage, total=total, note=note)
        self.bar.update(self.tasks[stage], completed=done, total=total, note=note)

    def stage(self, name: str) -> Callable[[int, int], None]:
        """A `(done, total)` callback reporting under `name`."""
        return lambda done, total: self.update(name, done, total)

    def _line(self, stage: str, done: int, total: int | None, note: str) -> None:
        """One line when a stage starts or a batch of cases finishes (done moved on)."""
        if self.plain is None or self.reported.get(stage) == done:
            return
        self.reported[stage] = done
        of = f"/{total}" if total else ""
        extra = f" {note}" if note else ""
        elapsed = time.monotonic() - self.started
        try:
            self.plain.write(f"progress: {stage} {done}{of}{extra} ({elapsed:.0f} s)\n")
            self.plain.flush()
        except (OSError, ValueError):
            self.plain = None  # a closed stderr: stop reporting, never fail the command
