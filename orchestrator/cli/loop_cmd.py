"""`autoresearch run` (the loop, headless) and the supervisor's commands (control channel)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from orchestrator import control
from orchestrator.cli import cli, workspace_option
from orchestrator.cli.tables import print_table
from runlog.rows import MISSING, format_number
from runlog.workspace import Workspace

console = Console(stderr=True)


class LoopProgress:
    """The terminal view of a running loop: node, gate progress, best so far."""

    def __init__(self, directory: str = ".") -> None:
        self.directory = directory
        self.announced = False
        self.progress = Progress(
            TextColumn("[bold]{task.fields[exp]}[/] {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.task = self.progress.add_task("starting", total=None, exp="")
        self.best: float | None = None

    def __call__(self, kind: str, payload: dict[str, Any]) -> None:
        exp = f"exp{payload['experiment']}" if payload.get("experiment") else ""
        if kind == "node":
            self.progress.update(
                self.task, description=payload["node"], exp=exp, total=None, completed=0
            )
        elif kind == "gate_progress":
            what = "generating" if payload["stage"] == "run" else "judging"
            self.progress.update(
                self.task,
                description=f"{payload['gate']} {what}",
                exp=exp,
                total=payload["total"],
                completed=payload["done"],
            )
        elif kind == "training_progress":
            self.progress.update(
                self.task, description="training", total=payload["total"], completed=payload["step"]
            )
        elif kind == "experiment":
            q = payload.get("quality")
            if payload["status"] == "kept" and q is not None:
                self.best = q
            quality = format_number(q)
            self.progress.console.print(
                f"{exp} [{_colour(payload['status'])}]{payload['status']:9}[/] {quality} "
                f"{payload['lever_class']:13} {payload['hypothesis']}"
                + (f"   best {self.best:.3f}" if self.best is not None else "")
            )
        elif kind == "approval_request" and not self.announced:
            self.announced = True  # said once, however long the wait
            request = payload.get("request") or {}
            self.progress.console.print(waiting_line(request, self.directory), markup=False)
        elif kind in ("note", "approved", "denied", "training_done", "stop"):
            text = payload.get("text") or payload.get("rationale") or payload.get("note") or ""
            self.progress.console.print(f"[cyan]{kind}[/] {text}")


def _colour(status: str) -> str:
    return {"kept": "green", "discarded": "yellow", "failed": "red"}.get(status, "white")


def _ask_on_terminal(request: dict[str, Any]) -> dict[str, Any] | None:
    """--supervised: answer interrupts at the terminal when there is one."""
    if not sys.stdin.isatty():
        return None
    if request.get("type") == "training":
        console.print(
            f"[bold]Training request[/] {request.get('kind')}: {request.get('rationale')}"
        )
        console.print(
            f"data {request.get('data_size')} cases, about "
            f"{request.get('estimated_seconds', 0):.0f} s"
        )
    else:
        console.print(
            f"[bold]Next experiment[/] exp{request.get('id')}: {request.get('hypothesis')}"
        )
    approved = click.confirm("approve?", default=True, err=True)
    return {"approved": approved, "note": ""}


def summary_table(records: list[Any]) -> Table:
    table = Table(title="Experiments this run")
    for name in ("exp", "status", "lever class", "gate", "quality", "95% interval", "W/T/L"):
        table.add_column(name, no_wrap=True)
    table.add_column("hypothesis", no_wrap=True, overflow="ellipsis", max_width=60)
    for r in records:
        g = r.result
        table.add_row(
            r.name,
            f"[{_colour(r.status)}]{r.status}[/]",
            r.lever_class,
            g.gate if g else MISSING,
            format_number(g.quality if g else None),
            f"[{g.interval.low:.3f}, {g.interval.high:.3f}]" if g else MISSING,
            f"{g.wins}/{g.ties}/{g.losses}" if g else MISSING,
            r.hypothesis,
        )
    return table


WAITING_FOR_APPROVAL = 3  # `run --no-wait` stopped at a request that needs an answer


def answer_commands(request: dict[str, Any], directory: str) -> str:
    """The exact commands that answer `request`."""
    where, rid = _where(directory), request.get("id", "")
    return f"autoresearch approve {rid}{where}   or   autoresearch deny {rid}{where}"


def waiting_line(request: dict[str, Any], directory: str) -> str:
    """What the loop waits for and how to answer it, in one line."""
    what = f"{request.get('kind', '')} training" if request.get("type") == "training" else "the"
    return (
        f"waiting for approval of {what} request exp{request.get('id', '')}; answer with: "
        f"{answer_commands(request, directory)}"
    )


@cli.command("run")
@workspace_option
@click.option(
    "--experiments",
    type=click.IntRange(min=1),
    help="Stop after N experiments (default: the budget).",
)
@click.option(
    "--minutes",
    type=click.FloatRange(min=0, min_open=True),
    help="Stop after M minutes of wall clock.",
)
@click.option(
    "--usd",
    type=click.FloatRange(min=0, min_open=True),
    help="Stop when the run has cost this much.",
)
@click.option(
    "--researcher",
    help="heuristic, optuna, random, auto, or anthropic:<model> (default: the workspace's).",
)
@click.option("--supervised", is_flag=True, help="Ask approval before every experiment.")
@click.option(
    "--on-request",
    type=click.Choice(["wait", "deny", "approve"]),
    default="wait",
    show_default=True,
    help="What an unanswered request (training) gets: wait for `autoresearch approve/deny`, "
    "or deny / approve it unattended.",
)
@click.option(
    "--trainings",
    type=click.IntRange(min=1),
    help="With --on-request approve: the first approval grants a budget of N trainings (the "
    "researcher searches recipes within it).",
)
@click.option(
    "--no-wait",
    is_flag=True,
    help=f"Exit with code {WAITING_FOR_APPROVAL} instead of waiting for an approval.",
)
@click.option(
    "--reset-state",
    is_flag=True,
    help="Move the checkpoint database and commit journal aside first (after an "
    "'unreadable' error); nothing recorded is lost.",
)
@click.option(
    "--parallel",
    type=click.IntRange(min=1),
    help="Run K experiments at a time (default 1), in this process; with --ray, on Ray actors.",
)
@click.option(
    "--ray",
    "ray_address",
    metavar="ADDRESS",
    help="Run the experiments on Ray actors (needs the [scale] extra): join this cluster, or "
    "'local' to start a Ray for the run ('auto' finds a running local head).",
)
@click.option("--shard-cases", is_flag=True, help="Spread each gate's cases over the workers.")
@click.option(
    "--worker-cpus",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="CPUs per Ray worker.",
)
def run_command(
    directory: str,
    experiments: int | None,
    minutes: float | None,
    usd: float | None,
    researcher: str | None,
    supervised: bool,
    on_request: str,
    trainings: int | None,
    no_wait: bool,
    reset_state: bool,
    parallel: int | None,
    ray_address: str | None,
    shard_cases: bool,
    worker_cpus: float,
) -> None:
    """Run (or resume) the research loop with progress; a summary table at the end.

    Exit codes: 0 done (budget or stop), 2 a configuration or state problem (one line each),
    3 stopped to wait for an approval (--no-wait).
    """
    from orchestrator.loop import run_loop
    from orchestrator.pool.options import PoolOptions
    from orchestrator.preflight import PreflightError

    if trainings and on_request != "approve":
        raise click.UsageError("--trainings N grants a budget with --on-request approve; add it")

    options = PoolOptions(
        workers=parallel or 1,
        address=None if ray_address in (None, "local") else ray_address,
        shard_cases=shard_cases,
        cpus_per_worker=worker_cpus,
        local=ray_address is None,
    )
    if reset_state:
        _reset_state(directory)
    view = LoopProgress(directory)
    try:
        with view.progress:
            summary = run_loop(
                Path(directory),
                experiments=experiments,
                minutes=minutes,
                usd=usd,
                researcher=researcher,
                supervised=supervised,
                wait_for_approval=not no_wait,
                on_request=on_request,  # type: ignore[arg-type]
                on_progress=view,
                ask=_ask_on_terminal if supervised else None,
                parallel=options,
                grant=control.TrainingGrant(trainings=trainings) if trainings else None,
            )
    except PreflightError as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        sys.exit(2)
    _print_summary(summary, directory, announced=view.announced)
    if summary.waiting_for:
        sys.exit(WAITING_FOR_APPROVAL)


def _reset_state(directory: str) -> None:
    from orchestrator.recovery import reset_state

    moved = reset_state(directory)
    for source, target in moved:
        click.echo(f"moved {source} aside to {target}", err=True)
    if not moved:
        click.echo("--reset-state: no checkpoint or commit journal to move aside", err=True)


def _print_summary(summary: Any, directory: str, *, announced: bool) -> None:
    out = Console()
    out.width = max(out.width, 150)  # the table reads badly wrapped; a pipe gets 80 columns
    if summary.experiments:
        print_table(summary_table(summary.experiments), out)
    best = Workspace.open(directory).current_best()
    if best is not None and best.result is not None:
        g = best.result
        out.print(
            f"best: {best.record.name} quality {g.quality:.3f} "
            f"[{g.interval.low:.3f}, {g.interval.high:.3f}] on {g.gate} — "
            f"{best.record.hypothesis}"
        )
    out.print(f"stopped: {summary.stop_reason} after {summary.seconds:.0f} s{_pace(summary)}")
    if summary.waiting_for and not announced:
        out.print(waiting_line(summary.waiting_for, directory), markup=False)
    if summary.waiting_for:
        out.print("then: autoresearch run" + _where(directory), markup=False)
    if summary.dashboard:
        out.print(f"dashboard: {summary.dashboard}")


def _pace(summary: Any) -> str:
    """How many experiments this run recorded, and at what rate per hour."""
    n = len(summary.experiments)
    if not n or summary.seconds <= 0:
        return ""
    return f" ({n} experiment{'s' if n != 1 else ''}, {n / summary.seconds * 3600:.0f} per hour)"


def _where(directory: str) -> str:
    return "" if directory in ("", ".") else f" -C {shlex.quote(directory)}"


def _send(
    directory: str,
    kind: control.CommandKind,
    text: str = "",
    request: str | None = None,
    grant: control.TrainingGrant | None = None,
) -> None:
    ws = Workspace.open(directory, repair=False)
    command = control.send(ws.main_root, kind, text, request, grant)
    running = control.LoopLock(ws.main_root).held_by_other()
    where = "the running loop" if running else "the loop (it picks this up when it next runs)"
    click.echo(f"sent {command.kind} to {where}")


@cli.command("note")
@click.argument("text")
@workspace_option
def note_command(text: str, directory: str) -> None:
    """A note for the researcher; it reaches the next proposal (`focus rag`, `avoid prompt`)."""
    if not text.strip():
        raise click.BadParameter(
            'a note needs text, e.g. autoresearch note "focus rag"', param_hint="TEXT"
        )
    _send(directory, "note", text)


@cli.command("pause")
@workspace_option
def pause_command(directory: str) -> None:
    """Pause the loop after its current node."""
    _send(directory, "pause")


@cli.command("resume")
@workspace_option
def resume_command(directory: str) -> None:
    """Resume a paused loop."""
    _send(directory, "resume")


@cli.command("stop")
@workspace_option
def stop_command(directory: str) -> None:
    """Stop the loop after the current experiment."""
    _send(directory, "stop")


@cli.command("approve")
@click.argument("request", required=False)
@click.option("--note", default="", help="A note that goes with the approval.")
@click.option(
    "--trainings",
    type=click.IntRange(min=1),
    help="A training budget: this training and up to N-1 more the researcher asks for "
    "(each an experiment with its own recipe), approved without asking.",
)
@click.option(
    "--minutes",
    type=click.FloatRange(min=0, min_open=True),
    help="A training budget: the trainings the researcher asks for within M minutes.",
)
@workspace_option
def approve_command(
    request: str | None,
    note: str,
    trainings: int | None,
    minutes: float | None,
    directory: str,
) -> None:
    """Approve the pending request (training, or the next experiment under --supervised)."""
    grant = control.TrainingGrant(trainings=trainings, minutes=minutes)
    _send(directory, "approve", note, request, grant if trainings or minutes else None)


@cli.command("deny")
@click.argument("request", required=False)
@click.option("--note", default="", help="Why, for the researcher.")
@workspace_option
def deny_command(request: str | None, note: str, directory: str) -> None:
    """Deny the pending request; the loop continues without it."""
    _send(directory, "deny", note, request)
