"""What changed in a workspace since a cursor: new experiment records, live and run-log events,
and the loop's status, read from the files the loop writes (so the loop may run anywhere).

The feed tails `runlog/experiments/`, `runlog/events.jsonl`, `.autoresearch/live.jsonl` and
`.autoresearch/live.json` by polling; `results.tsv` is derived from the records and adds nothing.
A record is pushed as soon as its file appears; when its commit is tagged later (the loop
writes the record, then commits), it is pushed again, so its card gains the agent diff.

Every read is bounded: a poll reads at most `MAX_READ` bytes of each log, and a client's cursor
(untrusted: it comes from the URL or the Last-Event-ID header) is validated, clamped to the
files as they are and moved up to `REPLAY_WINDOW` bytes before their end, so a replay costs
the same whatever the log's size. A log that shrinks below a cursor (truncated, rewritten) is
read again from its start. Only JSON objects are pushed; any other line is skipped.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator import control
from runlog.gitstore import experiment_commits
from runlog.workspace import Workspace

TAG_WAIT_SECONDS = 60.0  # how long a pushed record's commit is waited for
MAX_READ = 256 * 1024  # bytes of one log read per poll
REPLAY_WINDOW = 1024 * 1024  # how far back before a log's end a client may resume
MAX_RECORDS = 20  # experiment records pushed per poll (a replay from 0 goes in steps)
CURSOR = re.compile(r"[0-9]{1,15}\.[0-9]{1,15}\.[0-9]{1,15}")  # ASCII digits, bounded length


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
        if text is None or not CURSOR.fullmatch(text):
            return None
        return cls(*(int(p) for p in text.split(".")))


@dataclass(frozen=True)
class FeedEvent:
    """One thing to push: `experiment` (data: id), `live`, `event` or `status`."""

    name: str
    data: dict[str, Any]


def tail_lines(path: Path, offset: int, limit: int = MAX_READ) -> tuple[list[dict[str, Any]], int]:
    """JSON objects on whole lines appended to `path` after byte `offset` (at most `limit`
    bytes read), and the new offset. A log shorter than `offset` was truncated: it is read
    from its start. A line longer than `limit` is skipped."""
    if not path.is_file():
        return [], offset
    with open(path, "rb") as fh:
        size = fh.seek(0, 2)
        if size < offset:
            offset = 0
        fh.seek(offset)
        data = fh.read(limit)
    end = data.rfind(b"\n") + 1
    if end == 0 and len(data) == limit:
        return [], offset + len(data)  # one line longer than a read: skipped, piece by piece
    items = []
    for line in data[:end].splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue  # a torn or foreign line is skipped
        if isinstance(item, dict):
            items.append(item)
    return items, offset + end


def line_start_before(path: Path, offset: int) -> int:
    """The offset just after the last newline before `offset` (0 when none)."""
    with open(path, "rb") as fh:
        position = offset
        while position > 0:
            start = max(0, position - 64 * 1024)
            fh.seek(start)
            chunk = fh.read(position - start)
            newline = chunk.rfind(b"\n")
            if newline >= 0:
                return start + newline + 1
            position = start
    return 0


def whole_lines_size(path: Path) -> int:
    """The byte offset just after the last complete line of `path` (0 when absent); reads
    only the file's tail."""
    if not path.is_file():
        return 0
    return line_start_before(path, path.stat().st_size)


def clamp_offset(path: Path, offset: int) -> int:
    """A client's offset in a log made safe: at most the log's whole lines, at least the
    start of the line `REPLAY_WINDOW` bytes before them."""
    end = whole_lines_size(path)
    if offset >= end:
        return end
    if end - offset > REPLAY_WINDOW:
        return line_start_before(path, end - REPLAY_WINDOW)
    return offset


def current_cursor(ws: Workspace) -> Cursor:
    """A cursor at the workspace's present: what a freshly rendered page already shows."""
    ids = ws.record_ids()
    return Cursor(
        experiment=int(ids[-1]) if ids else 0,
        live=whole_lines_size(control.control_dir(ws.main_root) / "live.jsonl"),
        events=whole_lines_size(ws.events_path),
    )


def clamp_cursor(ws: Workspace, cursor: Cursor) -> Cursor:
    """A client's cursor bounded by the workspace as it is (see `clamp_offset`); an
    experiment beyond the last recorded one means the last."""
    ids = ws.record_ids()
    return Cursor(
        experiment=min(cursor.experiment, int(ids[-1]) if ids else 0),
        live=clamp_offset(control.control_dir(ws.main_root) / "live.jsonl", cursor.live),
        events=clamp_offset(ws.events_path, cursor.events),
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
        new = [i for i in self.ws.record_ids() if int(i) > self.cursor.experiment][:MAX_RECORDS]
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
