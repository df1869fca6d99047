"""A small stand-in for `orchestrator.loop.run_loop` that honours the control channel the same
way: one loop per workspace (LoopLock), `live.json` / `live.jsonl` published, commands read from
`control.jsonl` between nodes (pause waits for resume; stop ends; approve/deny answer the
pending training request). No model, no git: the TUI tests need only the control contract.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from orchestrator.control import LiveStatus, LoopLock, emit, read_commands, write_status

NODES = ("read_log", "propose", "write_lever", "validate", "run_gate", "record", "decide")
REQUEST = {
    "id": "req-1",
    "kind": "sft",
    "rationale": "plateau: three experiments without a kept one",
    "data_size": 160,
    "estimated_seconds": 300,
    "experiments": ["exp002", "exp003", "exp004"],
}


class FakeLoop:
    """`FakeLoop(request_after=1)(workspace)` asks for training after the first experiment."""

    def __init__(
        self,
        node_seconds: float = 0.02,
        request_after: int | None = None,
        max_seconds: float = 30.0,
    ) -> None:
        self.node_seconds = node_seconds
        self.request_after = request_after
        self.max_seconds = max_seconds
        self.decisions: list[Any] = []
        self.nodes_run = 0
        self.stopped = threading.Event()

    def __call__(self, workspace: Path, *, experiments: int | None = None, **_: Any) -> dict:
        self.ws = Path(workspace)
        self.offset = 0
        self.paused = self.stop = False
        self.status = LiveStatus(state="running", pid=os.getpid(), researcher="fake")
        self.deadline = time.monotonic() + self.max_seconds
        with LoopLock(self.ws):
            try:
                self._run(experiments or 1000)
            finally:
                self._publish(state="stopped", node="")
                self.stopped.set()
        return {"nodes": self.nodes_run, "decisions": self.decisions}

    def _run(self, experiments: int) -> None:
        for number in range(1, experiments + 1):
            for node in NODES:
                if not self._between_nodes():
                    return
                self._publish(state="running", node=node, experiment=f"{number:03d}")
                emit(self.ws, "node", node=node, experiment=f"{number:03d}")
                self.nodes_run += 1
                time.sleep(self.node_seconds)
            if number == self.request_after and not self._ask_for_training():
                return

    def _publish(self, **update: Any) -> None:
        self.status = self.status.model_copy(update=update)
        write_status(self.ws, self.status)

    def _between_nodes(self) -> bool:
        """Act on new commands; wait while paused. False when the loop must end."""
        while True:
            self._read()
            if self.stop or time.monotonic() > self.deadline:
                return False
            if not self.paused:
                if self.status.state == "paused":
                    self._publish(state="running")
                return True
            if self.status.state != "paused":
                self._publish(state="paused")
            time.sleep(0.01)

    def _read(self) -> None:
        commands, self.offset = read_commands(self.ws, self.offset)
        for command in commands:
            if command.kind == "pause":
                self.paused = True
            elif command.kind == "resume":
                self.paused = False
            elif command.kind == "stop":
                self.stop = True
            elif command.kind == "note":
                emit(self.ws, "note", text=command.text)
            elif command.kind in ("approve", "deny") and command.request == REQUEST["id"]:
                self.decisions.append((command.kind, command.text))

    def _ask_for_training(self) -> bool:
        self._publish(
            state="waiting_for_approval", node="request_training", pending_request=REQUEST
        )
        while not self.decisions:
            self._read()
            if self.stop or time.monotonic() > self.deadline:
                return False
            time.sleep(0.01)
        kind, text = self.decisions[-1]
        emit(self.ws, "approval", decision=kind, request=REQUEST["id"], text=text)
        self._publish(state="running", node="decide", pending_request=None)
        return True
