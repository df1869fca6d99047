"""The control channel between the loop and its supervisors (CLI, TUI), under `.autoresearch/`.

Supervisors append commands to `control.jsonl` (note, pause, resume, stop, approve, deny),
each with an id; the loop reads them from a cursor kept in its checkpointed state, so a crashed
loop re-reads what it had not acted on, and records the position it has applied up to in
`control.applied` (apart from the checkpoint), so a lost checkpoint never replays old commands.
An event a command causes carries the command's id, so a re-read never logs it twice. The loop
publishes what it is doing to `live.json` (a snapshot) and `live.jsonl` (a stream of node
transitions and gate progress). `LoopLock` keeps one loop per workspace with an OS file lock,
which a killed process releases by dying.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
import uuid
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from models import AutoresearchError
from models.files import STATE_DIR, atomic_write_text
from runlog.jsonl import append_jsonl, warn_skipped

log = logging.getLogger(__name__)
CommandKind = Literal["note", "pause", "resume", "stop", "approve", "deny"]
LiveState = Literal["starting", "running", "paused", "waiting_for_approval", "training", "stopped"]


class TrainingGrant(BaseModel):
    """What an approval of a training request grants: this training and up to `trainings - 1`
    more the researcher asks for, and/or as many as it asks for within `minutes` (the
    training track as a search: each is an experiment with its own recipe)."""

    model_config = ConfigDict(extra="forbid")

    trainings: int | None = Field(None, ge=1)
    minutes: float | None = Field(None, gt=0)


class ControlCommand(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12])
    time: float = Field(default_factory=time.time)
    kind: CommandKind
    text: str = ""
    request: str | None = None
    grant: TrainingGrant | None = None  # approve only: a training budget for later requests


class LiveStatus(BaseModel):
    """What the loop is doing now; the TUI header and `autoresearch status` read it."""

    model_config = ConfigDict(extra="forbid")

    state: LiveState = "stopped"
    pid: int | None = None
    researcher: str = ""
    node: str = ""
    experiment: str = ""
    gate: str = ""
    progress: tuple[int, int] | None = None
    pending_request: dict[str, Any] | None = None
    message: str = ""
    in_flight: dict[str, str] = Field(default_factory=dict)  # --parallel: experiment → worker
    heartbeat: float = Field(default_factory=time.time)


def control_dir(workspace: Path) -> Path:
    path = Path(workspace) / STATE_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def send(
    workspace: Path,
    kind: CommandKind,
    text: str = "",
    request: str | None = None,
    grant: TrainingGrant | None = None,
) -> ControlCommand:
    """Append a supervisor command for the loop to pick up."""
    command = ControlCommand(kind=kind, text=text, request=request, grant=grant)
    append_jsonl(control_dir(workspace) / "control.jsonl", command.model_dump_json())
    return command


def _new_lines(path: Path, offset: int) -> tuple[list[tuple[bytes, int]], int]:
    """Whole lines appended to `path` since byte `offset`, each with the offset after it, and
    the offset after the last whole line."""
    if not path.exists():
        return [], 0  # a deleted file starts again from its beginning
    if offset > path.stat().st_size:
        offset = 0  # a truncated or replaced file: read it from the start
    with open(path, "rb") as fh:
        fh.seek(offset)
        data = fh.read()
    lines, position = [], offset
    for line in data.splitlines(keepends=True):
        if not line.endswith(b"\n"):
            break  # a line still being written (or torn): read it when it is whole
        position += len(line)
        if line.strip():
            lines.append((line, position))
    return lines, position


def command_positions(
    workspace: Path, offset: int = 0
) -> tuple[list[tuple[ControlCommand, int]], int]:
    """Commands appended since byte `offset`, each with the offset just after it, and the new
    offset (whole lines only); a torn or foreign line is skipped with a warning."""
    path = control_dir(workspace) / "control.jsonl"
    lines, offset = _new_lines(path, offset)
    commands = []
    for line, end in lines:
        try:
            commands.append((ControlCommand.model_validate_json(line), end))
        except ValueError:
            warn_skipped(path, 0)
    return commands, offset


def read_commands(workspace: Path, offset: int = 0) -> tuple[list[ControlCommand], int]:
    """Commands appended since byte `offset`, and the new offset (whole lines only)."""
    commands, offset = command_positions(workspace, offset)
    return [command for command, _ in commands], offset


def applied_path(workspace: Path) -> Path:
    return control_dir(workspace) / "control.applied"


def applied_position(workspace: Path) -> int:
    """The byte offset of `control.jsonl` up to which the loop has applied every command.

    Missing: 0 (no loop has run yet: commands sent before the first run all count).
    Unreadable: the end of `control.jsonl`, so old commands are taken as applied rather than
    replayed (a replayed `stop` would end every run).
    """
    path = applied_path(workspace)
    try:
        return int(json.loads(path.read_text())["offset"])
    except FileNotFoundError:
        return 0
    except (OSError, ValueError, KeyError, TypeError):
        log.warning("%s: unreadable; treating every command sent so far as applied", path)
    commands = control_dir(workspace) / "control.jsonl"
    return commands.stat().st_size if commands.exists() else 0


def save_applied_position(workspace: Path, offset: int) -> None:
    """Durably record that every command before byte `offset` has been applied."""
    atomic_write_text(applied_path(workspace), json.dumps({"offset": offset}))


def write_status(workspace: Path, status: LiveStatus) -> None:
    snapshot = status.model_copy(update={"heartbeat": time.time()})
    atomic_write_text(control_dir(workspace) / "live.json", snapshot.model_dump_json())


def read_status(workspace: Path) -> LiveStatus:
    """The loop's last snapshot; a loop that holds no lock is reported stopped, except that a
    request left waiting for approval stays pending (the next `run` waits on it)."""
    path = control_dir(workspace) / "live.json"
    try:
        status = LiveStatus.model_validate_json(path.read_text())
    except (OSError, ValueError):
        return LiveStatus()
    if status.state in ("stopped", "waiting_for_approval"):
        return status
    if not LoopLock(workspace).held_by_other():
        return status.model_copy(update={"state": "stopped"})
    return status


def emit(workspace: Path, kind: str, /, **payload: Any) -> None:
    """Append one live event (node transition, gate progress, ...) to `live.jsonl`."""
    line = json.dumps({"time": time.time(), "kind": kind, **payload}, default=str)
    append_jsonl(control_dir(workspace) / "live.jsonl", line)


def read_live(workspace: Path, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Live events appended since byte `offset`, and the new offset."""
    path = control_dir(workspace) / "live.jsonl"
    lines, offset = _new_lines(path, offset)
    events = []
    for line, _ in lines:
        try:
            events.append(json.loads(line))
        except ValueError:
            warn_skipped(path, 0)
    return events, offset


class LoopAlreadyRunning(AutoresearchError):
    pass


class LoopLock:
    """One loop per workspace: an exclusive flock on `.autoresearch/loop.lock`."""

    def __init__(self, workspace: Path) -> None:
        self.path = control_dir(workspace) / "loop.lock"
        self._fh: Any = None

    def acquire(self) -> LoopLock:
        fh = open(self.path, "a+")  # noqa: SIM115 (held for the loop's lifetime)
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            owner = fh.read().strip() or "another process"
            fh.close()
            raise LoopAlreadyRunning(
                f"a loop is already running on this workspace (pid {owner}); "
                "steer it with `autoresearch note/pause/stop` or wait for it to end"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self._fh = fh
        return self

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

    def held_by_other(self) -> bool:
        if self._fh is not None or not self.path.exists():
            return False
        with open(self.path, "a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(fh, fcntl.LOCK_UN)
            return False

    def __enter__(self) -> LoopLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
