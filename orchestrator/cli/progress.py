"""The command line's one progress display: a rich bar per stage on stderr, when it is a terminal.

    with StageProgress() as bar:
        evaluate_workspace(ws, progress=bar.callback)      # (stage, done, total)
        build_ruler(..., progress=bar.stage("gold plans"))  # (done, total)

Off a terminal (pipes, tests) nothing is drawn and `callback` is None, so callers skip the work.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

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

    def __init__(self, *, transient: bool = True) -> None:
        self.bar: Progress | None = None
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
        """`update` on a terminal, else None (the `progress=` argument of the run log's calls)."""
        return self.update if self.bar is not None else None

    def update(self, stage: str, done: int, total: int | None, note: str = "") -> None:
        if self.bar is None:
            return
        if stage not in self.tasks:
            self.tasks[stage] = self.bar.add_task(stage, total=total, note=note)
        self.bar.update(self.tasks[stage], completed=done, total=total, note=note)

    def stage(self, name: str) -> Callable[[int, int], None]:
        """A `(done, total)` callback reporting under `name`."""
        return lambda done, total: self.update(name, done, total)
