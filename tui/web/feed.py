"""What changed in a workspace since a cursor: new experiment records, live and run-log events,
and the loop's status, read from the files the loop writes (so the loop may run anywhere).

The feed tails `runlog/experiments/`, `runlog/events.jsonl`, `.autoresearch/live.jsonl` and
`.autoresearch/live.json` by polling; `results.tsv` is derived from the records and adds nothing.
A record is pushed as soon as its file appears; when its commit is tagged later (the loop
writes the record, then commits), it is pushed again, so its card gains the agent diff.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator import control
from runlog.gitstore import experiment_commits
from runlog.workspace import Workspace

TAG_WAIT_SECONDS = 60.0  # how long a pushed record's commit is waited for


@dataclass
class Cursor:
    """How far a page has seen: the last experiment pushed, and byte offsets in the two logs."""

    experiment: int = 0
    live: int = 0
    events: int = 0

    def encode(self) -> str:
        return f"{self.experiment}.{self.live}.{self.events}"

    @classmethod
    def decode(cls, text: str | None) -> Cursor | None:
        """The cursor in `text` (an SSE id or query value); None when it is not one."""
        parts = (text or "").split(".")
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            return None
        return cls(*(int(p) for p in parts))


@dataclass(frozen=True)
class FeedEvent:
    """One thing to push: `experiment` (data: id), `live`, `event` or `status`."""

    name: str
    data: dict[str, Any]


def tail_lines(path: Path, offset: int) -> tuple[list[dict[str, Any]], int]:
    """JSON objects on whole lines appended to `path` after byte `offset`, and the new offset."""
    if not path.is_file():
        return [], offset
    with open(path, "rb") as fh:
        fh.seek(offset)
        data = fh.read()
    end = data.rfind(b"\n") + 1
    items = []
    for line in data[:end].splitlines():
        try:
            items.append(json.loads(line))
        except ValueError:
            continue  # a torn or foreign line is skipped
    return items, offset + end


def whole_lines_size(path: Path) -> int:
    """The byte offset just after the last complete line of `path` (0 when absent)."""
    return tail_lines(path, 0)[1]


def current_cursor(ws: Workspace) -> Cursor:
    """A cursor at the workspace's present: what a freshly rendered page already shows."""
    ids = ws.record_ids()
    return Cursor(
        experiment=int(ids[-1]) if ids else 0,
        live=whole_lines_size(control.control_dir(ws.main_root) / "live.jsonl"),
        events=whole_lines_size(ws.events_path),
    )


def status_snapshot(root: Path) -> dict[str, Any]:
    """The loop's live status as plain data, without the heartbeat (it changes every write)."""
    return control.read_status(root).model_dump(mode="json", exclude={"heartbeat"})


@dataclass
class WorkspaceFeed:
    """`poll()` returns the events since the cursor and advances it."""

    ws: Workspace
    cursor: Cursor
    untagged: dict[str, float] = field(default_factory=dict)  # id -> when it was pushed
    status: dict[str, Any] | None = None

    def poll(self) -> list[FeedEvent]:
        return [*self._experiments(), *self._logs(), *self._status()]

    def _experiments(self) -> list[FeedEvent]:
        new = [i for i in self.ws.record_ids() if int(i) > self.cursor.experiment]
        if not new and not self.untagged:
            return []
        tagged = experiment_commits(self.ws)
        events = []
        for exp in list(self.untagged):  # pushed before its commit: again, now with its diff
            waited = time.monotonic() - self.untagged[exp]
            if exp in tagged or waited > TAG_WAIT_SECONDS:
                del self.untagged[exp]
            if exp in tagged:
                events.append(FeedEvent("experiment", {"id": exp}))
        for exp in new:
            events.append(FeedEvent("experiment", {"id": exp}))
            self.cursor.experiment = int(exp)
            if exp not in tagged:
                self.untagged[exp] = time.monotonic()
        return events

    def _logs(self) -> list[FeedEvent]:
        live_path = control.control_dir(self.ws.main_root) / "live.jsonl"
        live, self.cursor.live = tail_lines(live_path, self.cursor.live)
        logged, self.cursor.events = tail_lines(self.ws.events_path, self.cursor.events)
        return [FeedEvent("live", item) for item in live] + [
            FeedEvent("event", item) for item in logged
        ]

    def _status(self) -> list[FeedEvent]:
        status = status_snapshot(self.ws.main_root)
        if status == self.status:
            return []
        self.status = status
        return [FeedEvent("status", status)]
