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
from typing import Any, Literal

from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command, StateSnapshot

from models import AutoresearchError
from orchestrator import control
from orchestrator.budget import Budget
from orchestrator.graph import LoopContext, build_graph, checkpoint_serializer
from orchestrator.pool.options import PoolOptions, workers
from orchestrator.recovery import CHECKPOINTS, RESET_HINT, StateFileError
from orchestrator.researchers import make_researcher
from orchestrator.researchers.base import Researcher
from orchestrator.services import WorkspaceServices
from orchestrator.state import GRAPH_VERSION
from runlog.records import ExperimentRecord
from runlog.workspace import Workspace

THREAD = "loop"
OnRequest = Literal["wait", "deny", "approve"]


@dataclass
class LoopSummary:
    experiments: list[ExperimentRecord]
    stop_reason: str
    seconds: float
    dashboard: Path | None = None
    waiting_for: dict[str, Any] | None = None


def _checkpointer(ws: Workspace) -> SqliteSaver:
    conn = sqlite3.connect(ws.state_dir / CHECKPOINTS, check_same_thread=False)
    return SqliteSaver(conn, serde=checkpoint_serializer())


def _decided_by(services: WorkspaceServices) -> dict[str, str]:
    """Approve/deny commands already used, each with the request it settled."""
    return {
        e.payload["command"]: str(e.payload.get("request", ""))
        for e in services.ws.events()
        if e.kind in ("approved", "denied", "stop") and e.payload.get("command")
    }


def _announce(services: WorkspaceServices, request: dict[str, Any]) -> None:
    """Log the request once (a resumed loop waits on it without logging it again); say what
    the loop waits for on the progress stream and in live.json."""
    announced = any(
        e.payload.get("id") == request.get("id") for e in services.ws.events("approval_request")
    )
    if not announced:
        services.ws.append_event("approval_request", request)
    services.emit("approval_request", request=request, text=request.get("rationale", ""))
    services.publish_status(
        "waiting_for_approval",
        node="request_training" if request.get("type") == "training" else "confirm_experiment",
        pending_request=request,
        experiment=request.get("id", ""),
    )


def _wait_for_decision(
    services: WorkspaceServices, request: dict[str, Any], offset: int, wait: bool
) -> dict[str, Any] | None:
    """Poll the control channel for approve/deny of `request`; notes and stop still count.

    The decision carries the deciding command's id (its event is logged once) and the offset
    just after it. Notes sent meanwhile are logged here; they reach the loop's state when the
    resumed node's control poll reads them again (logged once: events carry command ids).
    """
    _announce(services, request)
    used = _decided_by(services)
    while True:
        commands, end = control.command_positions(services.root, offset)
        for command, after in commands:
            offset = after
            if command.kind == "note":
                services.record_event("note", text=command.text, command=command.id)
            elif command.kind == "stop":
                services.record_event(
                    "stop",
                    request=request["id"],
                    text="stopped while waiting for approval",
                    command=command.id,
                )
                return _decision(False, "stopped while waiting", offset, command, stop=True)
            elif command.kind in ("approve", "deny") and command.request in (
                None,
                "",
                request["id"],
            ):
                if used.get(command.id, request["id"]) != request["id"]:
                    continue  # it settled an earlier request
                return _decision(command.kind == "approve", command.text, offset, command)
        offset = end
        control.save_applied_position(services.root, offset)
        if not wait:
            return None
        time.sleep(services.poll_seconds)


def _decision(
    approved: bool,
    note: str,
    offset: int,
    command: control.ControlCommand,
    stop: bool = False,
) -> dict[str, Any]:
    return {
        "approved": approved,
        "note": note,
        "offset": offset,
        "command": command.id,
        "stop": stop,
        "grant": command.grant.model_dump() if approved and command.grant else None,
    }


def _settle(
    request: dict[str, Any],
    policy: OnRequest,
    offset: int,
    grant: control.TrainingGrant | None = None,
) -> dict[str, Any]:
    """An unattended answer (`run --on-request approve|deny`), logged once per request; an
    approval carries `grant` (`--trainings N`), the budget for the researcher's next requests."""
    approved = policy == "approve"
    return {
        "approved": approved,
        "note": f"settled unattended (--on-request {policy})",
        "offset": offset,
        "command": f"on-request-{policy}-{request.get('id', '')}",
        "grant": grant.model_dump() if approved and grant else None,
    }


def _start_value(snapshot: StateSnapshot, ws: Workspace) -> Any:
    """None to resume an unfinished run (tasks pending, or done but not yet folded into a
    checkpoint), else a fresh start's input, reading commands from the later of the checkpoint's
    offset and the applied position (a lost checkpoint never replays old commands); a run left
    by an earlier graph version is refused."""
    values = snapshot.values or {}
    if snapshot.tasks and values.get("graph_version") != GRAPH_VERSION:
        raise AutoresearchError(
            f"{ws.state_dir / CHECKPOINTS}: an unfinished run left by an earlier version of "
            f"autoresearch cannot be resumed; {RESET_HINT}"
        )
    if snapshot.tasks:
        return None
    offset = max(values.get("control_offset", 0), control.applied_position(ws.main_root))
    return {
        "graph_version": GRAPH_VERSION,
        "stop_requested": False,
        "control_offset": offset,
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
    on_request: OnRequest = "wait",
    preflight: bool = True,
    on_progress: Callable[[str, dict[str, Any]], None] | None = None,
    ask: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None,
    parallel: PoolOptions | None = None,
    grant: control.TrainingGrant | None = None,
) -> LoopSummary:
    """Run (or resume) the workspace's loop until its budget, a stop, or an unanswered request.

    `ask`, when given, is consulted first for a pending interrupt (the CLI's --supervised
    prompt); otherwise the control channel answers it (`autoresearch approve/deny`), and when
    it has no answer `on_request` settles it: wait (unless `wait_for_approval` is False: then
    the run ends waiting), or approve / deny unattended; the first unattended approval carries
    `grant`, a training budget (the researcher's next requests within it need no answer).
    `preflight` refuses a workspace whose configuration cannot work before anything runs
    (`PreflightError`). `parallel` runs up to K experiments at once, in this process or on Ray
    workers (`orchestrator.pool`); without it the experiments run one at a time in this
    process, and Ray is never imported.
    """
    started = time.time()
    ws = Workspace.open(workspace)
    before = set(ws.record_ids())
    if preflight:
        from orchestrator.preflight import require_runnable

        given = isinstance(researcher, str | None)
        require_runnable(ws, researcher if given else None, check_researcher=given)
    if not isinstance(researcher, str | None):
        chosen = researcher
    else:
        chosen = make_researcher(researcher or ws.config.researcher.spec, ws.main_root)
    if experiments is None and minutes is None and usd is None:
        b = ws.config.budget
        experiments, usd = b.max_experiments, b.max_usd
        minutes = b.max_hours * 60 if b.max_hours else None
    options = parallel or PoolOptions()
    options.check()
    services = WorkspaceServices(
        ws,
        chosen,
        Budget(experiments, minutes, usd),
        supervised=supervised,
        on_progress=on_progress,
        options=options,
    )
    with control.LoopLock(ws.main_root), workers(services, options):
        saver = _checkpointer(ws)
        graph = build_graph(saver)
        config: dict[str, Any] = {"configurable": {"thread_id": THREAD}}
        waiting: dict[str, Any] | None = None
        try:
            waiting, stop_reason = _drive(
                graph, config, services, ask, wait_for_approval, on_request, grant
            )
        except sqlite3.DatabaseError as exc:
            raise StateFileError(ws.state_dir / CHECKPOINTS, exc) from None
        finally:
            control.write_status(
                ws.main_root,
                control.LiveStatus(
                    state="waiting_for_approval" if waiting else "stopped",
                    researcher=services.researcher.name,
                    pending_request=waiting,
                    experiment=(waiting or {}).get("id", ""),
                ),
            )
            saver.conn.close()
    new = [ws.record(i) for i in ws.record_ids() if i not in before]
    return LoopSummary(new, stop_reason, time.time() - started, services.dashboard, waiting)


def _drive(
    graph: Any,
    config: dict[str, Any],
    services: WorkspaceServices,
    ask: Callable[[dict[str, Any]], dict[str, Any] | None] | None,
    wait_for_approval: bool,
    on_request: OnRequest,
    grant: control.TrainingGrant | None = None,
) -> tuple[dict[str, Any] | None, str]:
    """Stream the graph, answering its interrupts; (the request left waiting, stop reason)."""
    context = LoopContext(services)
    value = _start_value(graph.get_state(config), services.ws)
    while True:
        for _ in graph.stream(
            value, config, context=context, stream_mode="updates", durability="sync"
        ):
            pass
        snapshot = graph.get_state(config)
        if not snapshot.interrupts:
            return None, snapshot.values.get("stop_reason", "")
        request = {**snapshot.interrupts[0].value}
        offset = snapshot.values.get("control_offset", 0)
        decision = ask(request) if ask else None
        if decision is None:
            wait = wait_for_approval and on_request == "wait"
            decision = _wait_for_decision(services, request, offset, wait)
        if decision is None and on_request != "wait":
            decision = _settle(request, on_request, offset, grant)
            grant = None  # the budget comes once, with the first approval
        if decision is None:
            return request, "waiting for the supervisor's approval"
        value = Command(resume={"offset": offset, **decision})
