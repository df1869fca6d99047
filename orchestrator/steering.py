"""Steering the loop: the control channel polled before every node (notes, pause, resume,
stop), the events it logs, and the live status and progress stream the supervisor watches."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from orchestrator import control
from orchestrator.budget import Budget
from orchestrator.researchers.base import (
    Researcher,
)
from orchestrator.state import LoopState
from runlog.workspace import Workspace


class Steering:
    """The services' control-channel side (mixed into `WorkspaceServices`)."""

    ws: Workspace
    researcher: Researcher
    budget: Budget
    on_progress: Callable[[str, dict[str, Any]], None] | None
    poll_seconds: float
    node_seconds: dict[str, float]
    _node: tuple[str, float] | None

    @property
    def root(self) -> Path:
        return self.ws.main_root

    def emit(self, kind: str, /, **payload: Any) -> None:
        control.emit(self.root, kind, **payload)
        if self.on_progress:
            self.on_progress(kind, payload)

    def publish_status(self, state: str, **fields: Any) -> None:
        control.write_status(
            self.root,
            control.LiveStatus(
                state=state, pid=os.getpid(), researcher=self.researcher.name, **fields
            ),
        )  # type: ignore[arg-type]

    def poll(self, state: LoopState, node: str) -> dict[str, Any]:
        now = time.perf_counter()
        if self._node is not None:
            name, started = self._node
            self.node_seconds[name] = self.node_seconds.get(name, 0.0) + now - started
        self._node = (node, now)
        offset = state.get("control_offset", 0)
        notes = list(state.get("notes") or [])
        stop = bool(state.get("stop_requested"))
        paused = False
        while True:
            start = offset
            commands, offset = control.read_commands(self.root, offset)
            for command in commands:
                if command.kind == "note":
                    notes.append(command.text)
                    self.record_event("note", text=command.text, command=command.id)
                elif command.kind in ("pause", "resume"):
                    paused = command.kind == "pause"
                    self.record_event(command.kind, command=command.id)
                elif command.kind == "stop":
                    stop, paused = True, False
                    self.record_event(
                        "stop", text="stopping after the current experiment", command=command.id
                    )
                elif not self._settled(command.id):  # a used answer is re-read on resume
                    self.emit(
                        "ignored",
                        command=command.kind,
                        text="no approval is pending; nothing to approve or deny",
                    )
            if offset != start:  # applied: a lost checkpoint must not replay these
                control.save_applied_position(self.root, offset)
            if not paused:
                break
            self.publish_status("paused", node=node, experiment=state.get("exp_id", ""))
            time.sleep(self.poll_seconds)
        self.publish_status("running", node=node, experiment=state.get("exp_id", ""))
        self.emit("node", node=node, experiment=state.get("exp_id", ""))
        return {"control_offset": offset, "notes": notes, "stop_requested": stop}

    def _settled(self, command: str) -> bool:
        kinds = ("approved", "denied", "stop")
        return any(e.payload.get("command") == command for e in self.ws.events() if e.kind in kinds)

    def stop_reason(self, state: LoopState) -> str:
        if state.get("stop_requested"):
            return "stopped by the supervisor"
        return self.budget.spent()

    def record_event(self, kind: str, /, **payload: Any) -> None:
        """Log an event; one a control command caused (`command=<id>`) is logged once only,
        however often a resumed loop re-reads the command."""
        command = payload.get("command")
        if command and any(e.payload.get("command") == command for e in self.ws.events(kind)):
            return
        self.ws.append_event(kind, payload)
        self.emit(kind, **payload)
