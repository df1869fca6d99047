"""`run_loop`: the researcher graph over a real workspace, durable, steerable, one per workspace.

`run_loop` holds the workspace's loop lock, checkpoints the graph in
`.autoresearch/checkpoints.sqlite` (one thread per workspace, so a killed loop resumes where it
stopped), answers interrupts from the control channel, and keeps `live.json` / `live.jsonl`
current for `autoresearch status` and the TUI. What the nodes do to the world is in
`orchestrator.services`.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command, StateSnapshot

from models import AutoresearchError
from orchestrator import control
from orchestrator.graph import Budget, LoopContext, build_graph, checkpoint_serializer
from orchestrator.researchers import make_researcher
from orchestrator.researchers.base import Researcher
from orchestrator.services import WorkspaceServices
from orchestrator.state import GRAPH_VERSION
from runlog.records import ExperimentRecord
from runlog.workspace import Workspace

THREAD = "loop"


@dataclass
class LoopSummary:
    experiments: list[ExperimentRecord]
    stop_reason: str
    seconds: float
    dashboard: Path | None = None
    waiting_for: dict[str, Any] | None = None


def _checkpointer(ws: Workspace) -> SqliteSaver:
    conn = sqlite3.connect(ws.state_dir / "checkpoints.sqlite", check_same_thread=False)
    return SqliteSaver(conn, serde=checkpoint_serializer())


def _wait_for_decision(
    services: WorkspaceServices, request: dict[str, Any], offset: int, wait: bool
) -> dict[str, Any] | None:
    """Poll the control channel for approve/deny of `request`; notes and stop still count."""
    root = services.root
    announced = any(
        e.payload.get("id") == request.get("id") for e in services.ws.events("approval_request")
    )
    if not announced:  # a resumed loop waits on the same request without announcing it twice
        services.ws.append_event("approval_request", request)
    services.emit("approval_request", request=request, text=request.get("rationale", ""))
    services.publish_status(
        "waiting_for_approval",
        node="request_training",
        pending_request=request,
        experiment=request.get("id", ""),
    )
    while True:
        commands, offset = control.read_commands(root, offset)
        for command in commands:
            if command.kind in ("approve", "deny") and command.request in (None, "", request["id"]):
                return {
                    "approved": command.kind == "approve",
                    "note": command.text,
                    "offset": offset,
                }
            if command.kind == "note":
                services.ws.append_event("note", {"text": command.text})
            if command.kind == "stop":
                return {
                    "approved": False,
                    "note": "stopped while waiting",
                    "offset": offset,
                    "stop": True,
                }
        if not wait:
            return None
        time.sleep(services.poll_seconds)


def _start_value(snapshot: StateSnapshot, path: Path) -> Any:
    """None to resume an unfinished run (tasks pending, or done but not yet folded into a
    checkpoint), else a fresh start's input; a run left by an earlier graph version is refused."""
    values = snapshot.values or {}
    if snapshot.tasks and values.get("graph_version") != GRAPH_VERSION:
        raise AutoresearchError(
            f"{path}: an unfinished run left by an earlier version of autoresearch cannot be "
            "resumed; delete the file to start afresh (the run log is unaffected)"
        )
    if snapshot.tasks:
        return None
    return {
        "graph_version": GRAPH_VERSION,
        "stop_requested": False,
        "control_offset": values.get("control_offset", 0),
        "stop_reason": "",
    }


def run_loop(
    workspace: Path | str,
    *,
    experiments: int | None = None,
    minutes: float | None = None,
    usd: float | None = None,
    researcher: str | Researcher | None = None,
    supervised: bool = False,
    wait_for_approval: bool = True,
    on_progress: Callable[[str, dict[str, Any]], None] | None = None,
    ask: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None,
) -> LoopSummary:
    """Run (or resume) the workspace's loop until its budget, a stop, or an unanswered request.

    `ask`, when given, is consulted first for a pending interrupt (the CLI's --supervised
    prompt); otherwise the control channel answers it (`autoresearch approve/deny`).
    """
    started = time.time()
    ws = Workspace.open(workspace)
    before = set(ws.record_ids())
    if not isinstance(researcher, str | None):
        chosen = researcher
    else:
        chosen = make_researcher(researcher or ws.config.researcher.spec, ws.main_root)
    if experiments is None and minutes is None and usd is None:
        b = ws.config.budget
        experiments, usd = b.max_experiments, b.max_usd
        minutes = b.max_hours * 60 if b.max_hours else None
    services = WorkspaceServices(
        ws,
        chosen,
        Budget(experiments, minutes, usd),
        supervised=supervised,
        on_progress=on_progress,
    )
    with control.LoopLock(ws.main_root):
        saver = _checkpointer(ws)
        graph = build_graph(saver)
        context = LoopContext(services)
        config = {"configurable": {"thread_id": THREAD}}
        waiting = None
        try:
            value = _start_value(graph.get_state(config), ws.state_dir / "checkpoints.sqlite")
            while True:
                for _ in graph.stream(
                    value, config, context=context, stream_mode="updates", durability="sync"
                ):
                    pass
                snapshot = graph.get_state(config)
                if not snapshot.interrupts:
                    break
                request = {**snapshot.interrupts[0].value}
                offset = snapshot.values.get("control_offset", 0)
                decision = ask(request) if ask else None
                if decision is None:
                    decision = _wait_for_decision(services, request, offset, wait_for_approval)
                if decision is None:
                    waiting = request
                    break
                value = Command(resume={"offset": offset, **decision})
            stop_reason = (
                "waiting for the supervisor's approval"
                if waiting
                else graph.get_state(config).values.get("stop_reason", "")
            )
        finally:
            state = "waiting_for_approval" if waiting else "stopped"
            control.write_status(
                ws.main_root,
                control.LiveStatus(
                    state=state, researcher=services.researcher.name, pending_request=waiting
                ),
            )
            saver.conn.close()
    new = [ws.record(i) for i in ws.record_ids() if i not in before]
    return LoopSummary(new, stop_reason, time.time() - started, services.dashboard, waiting)
