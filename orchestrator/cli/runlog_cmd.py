"""`autoresearch init | eval | bisect | log | status | show | report`: the workspace and its log.

`eval --check EXPR` exits 0 when the check holds, 1 when it does not and 125 when the agent
cannot be evaluated, so it works as a `git bisect run` script; an expression that does not
parse exits 128, which makes `git bisect run` stop instead of marking commits bad. (These
exits use sys.exit: under `standalone_mode=False` click returns a `ctx.exit` code instead.)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from orchestrator.cli import cli, workspace_option
from orchestrator.cli.progress import StageProgress
from orchestrator.cli.tables import DIMENSION_LEGEND, dimension_header, print_table
from ruler.records import DIMENSIONS
from runlog.check import (
    BAD_CHECK,
    CANNOT_EVALUATE,
    CHECK_FAILS,
    CHECK_HOLDS,
    CheckError,
    parse_check,
)
from runlog.rows import MISSING, format_number
from runlog.settings import CONFIG_NAME
from runlog.workspace import Workspace, WorkspaceError


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--model", help="Candidate model spec for the baseline agent.")
@click.option("--judge", help="Judge spec (default: embedding, the offline judge).")
@click.option(
    "--researcher", help="heuristic, optuna, random, auto or anthropic:<model> (default: auto)."
)
@click.option("--ruler", help="Ruler name or folder (default: planner).")
@click.option(
    "--force",
    is_flag=True,
    help="On an existing workspace: rewrite its settings to the options given, saying what "
    "changed (without it, a conflicting option is an error).",
)
def init(
    directory: str,
    model: str | None,
    judge: str | None,
    researcher: str | None,
    ruler: str | None,
    force: bool,
) -> None:
    """Create a workspace in DIRECTORY: agent, run log, settings and a first commit."""
    from orchestrator.preflight import spec_problems

    problems = spec_problems(model, judge, researcher)
    if problems:
        for problem in problems:
            click.echo(f"error: {problem}", err=True)
        sys.exit(2)
    if (Path(directory) / CONFIG_NAME).is_file():
        ws = _reinit(directory, force, model=model, judge=judge, researcher=researcher, ruler=ruler)
    else:
        ws = Workspace.init(
            directory, model=model, judge=judge, researcher=researcher, ruler=ruler or "planner"
        )
    click.echo(f"workspace {ws.root}")
    click.echo(
        f"  candidate {ws.config.candidate.model} · judge {ws.config.judge.spec} · "
        f"ruler {ws.config.ruler.name} {ws.config.ruler.lock_hash[:12]}"
    )
    click.echo(f"next: autoresearch eval -C {directory}   or   autoresearch run -C {directory}")


def _reinit(directory: str, force: bool, **given: str | None) -> Workspace:
    """An existing workspace: refuse options that conflict with it, or rewrite them (--force)."""
    from runlog.reinit import apply_changes, setting_changes

    ws = Workspace.open(directory)
    changes = setting_changes(ws, **given)
    if changes and not force:
        for change in changes:
            click.echo(
                f"error: {ws.root / CONFIG_NAME}: {change.key} is {change.old!r}, "
                f"not {change.new!r}",
                err=True,
            )
        click.echo(
            "error: the workspace exists; rerun with --force to change its settings", err=True
        )
        sys.exit(2)
    if changes:
        commit = apply_changes(ws, changes)
        for change in changes:
            click.echo(f"changed {change} (commit {commit[:10]})")
        ws = Workspace.open(directory)
    else:
        click.echo("workspace exists; settings unchanged")
    return ws


def _eval_json(result: Any, check: str | None, holds: bool | None) -> dict[str, Any]:
    gate = result.result
    return {
        "agent": result.ref or result.extra.get("agent", "work tree"),
        "gate": gate.gate,
        "mode": gate.mode,
        "judge": gate.judge_id,
        "ref": result.ref,
        "tree_hash": result.tree_hash,
        "model": result.model_id,
        "quality": gate.quality,
        "interval": gate.interval.model_dump(),
        "dimensions": gate.dimension_means,
        "wins": gate.wins,
        "ties": gate.ties,
        "losses": gate.losses,
        "delta": gate.comparison.delta if gate.comparison else None,
        "model_calls": result.model_calls,
        "cached_cases": result.cached_cases,
        "judge_calls": gate.judge_calls,
        "seconds": result.seconds,
        "failed_cases": [r.case_id for r in result.runs if r.failed],
        "check": check,
        "holds": holds,
    }


def _print_eval(result: Any) -> None:
    gate = result.result
    source = result.ref or result.extra.get("agent", "work tree")
    title = f"{source} · {result.model_id} · {gate.gate} ({gate.mode}, {gate.judge_id})"
    names = list(gate.dimension_means) or list(DIMENSIONS)  # the ruler's rubric
    legend = DIMENSION_LEGEND if set(names) <= set(DIMENSIONS) else None
    headers = [dimension_header(d) for d in names]
    table = Table("quality", "interval", *headers, "W/T/L", title=title, caption=legend)
    dims = [format_number(gate.dimension_means.get(d), 2) for d in names]
    table.add_row(
        format_number(gate.quality),
        f"[{format_number(gate.interval.low)}, {format_number(gate.interval.high)}]",
        *dims,
        f"{gate.wins}/{gate.ties}/{gate.losses}",
    )
    console = Console()
    print_table(table, console)
    console.print(
        f"model calls {result.model_calls} · cached cases {result.cached_cases} · "
        f"judge calls {gate.judge_calls} · {result.seconds:.1f} s"
    )
    for run in result.runs:
        if run.failed:
            console.print(f"  [red]{run.case_id}[/red] failed: {run.error}", markup=True)
    if result.trace:
        from levers.diagram import text_diagram

        console.print("pipeline (first case):")
        console.print(text_diagram(result.trace), end="", markup=False, highlight=False)


def _open_quietly(directory: str) -> Workspace | None:
    try:
        return Workspace.open(directory, repair=False)
    except WorkspaceError:
        return None


def _evaluate(directory: str, agent_file: str | None, **options: Any):
    """The workspace agent (or at --ref); else --agent FILE; outside a workspace, the baseline."""
    from runlog.evaluate import evaluate_agent_file, evaluate_workspace

    ws = _open_quietly(directory)
    if ws is None and options["ref"]:
        raise WorkspaceError(f"{Path(directory).resolve()}: --ref needs a workspace (see -C)")
    with StageProgress() as bar:
        progress = bar.callback
        if ws is not None and not agent_file:
            return evaluate_workspace(ws, progress=progress, **options)
        return evaluate_agent_file(
            Path(agent_file) if agent_file else None,
            gate=options["gate"] or (ws.config.keep.gate if ws else "dev-10"),
            judge=options["judge"] or (ws.config.judge.spec if ws else "embedding"),
            mode=options["mode"] or (ws.config.judge.mode if ws else "standard"),
            model=options["model"],
            ws=ws,
            progress=progress,
            no_cache=options["no_cache"],
        )


def _eval_cases(directory: str, result: Any) -> list:
    from runlog.cases import eval_cases

    ws = _open_quietly(directory)
    return eval_cases(result, ws.config.ruler.name if ws else "planner")


@cli.command("eval")
@workspace_option
@click.option("--ref", help="Evaluate the agent at this git ref (exp/007, a sha, main~2).")
@click.option(
    "--agent",
    "agent_file",
    type=click.Path(dir_okay=False, exists=True),
    help="Evaluate this agent.toml (its sibling levers/ loaded) instead.",
)
@click.option("--gate", help="Gate to run (default: the workspace's keep gate, else dev-10).")
@click.option("--judge", help="Judge spec (default: the workspace's).")
@click.option("--mode", type=click.Choice(["standard", "coverage-blind"]), help="Judge mode.")
@click.option("--model", help="Override the agent's candidate model.")
@click.option(
    "--check", "check", help='Exit 0 if it holds, 1 if not: "coverage>=3 and quality>0.4".'
)
@click.option(
    "--no-cache", "no_cache", is_flag=True, help="Run every case afresh (skip cached outputs)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--cases", "show_cases", is_flag=True, help="Also each case's plan and verdict.")
@click.option(
    "--compare", "compare_ref", help="Pair with the agent at this ref (Δ, interval, sign test)."
)
def eval_command(
    directory: str,
    ref: str | None,
    agent_file: str | None,
    gate: str | None,
    judge: str | None,
    mode: str | None,
    model: str | None,
    check: str | None,
    no_cache: bool,
    as_json: bool,
    show_cases: bool,
    compare_ref: str | None,
) -> None:
    """Evaluate the workspace's agent (or one at a ref, or any agent.toml) on a gate.

    With --compare REF, the agent at REF and this one (the work tree, or --ref) run on the
    same gate and are paired case by case, as the keep policy pairs an experiment with the best.
    """
    if check is not None:
        try:
            parse_check(check)
        except CheckError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(BAD_CHECK)
    options = {"ref": ref, "gate": gate, "judge": judge, "mode": mode, "model": model}
    if agent_file and (ref or compare_ref):
        raise click.UsageError("--agent does not combine with --ref or --compare")
    if compare_ref:  # --- paired comparison (issue 17) ---
        from orchestrator.cli.eval_compare import run_compare

        run_compare(directory, compare_ref, options, as_json, show_cases, check)
        return
    try:
        result = _evaluate(directory, agent_file, no_cache=no_cache, **options)
    except Exception as exc:
        if check is None:
            raise
        click.echo(f"error: cannot evaluate: {exc}", err=True)
        sys.exit(CANNOT_EVALUATE)
    holds = result.check(check) if check is not None else None
    if as_json:
        data = _eval_json(result, check, holds)
        if show_cases:
            data["cases"] = [c.model_dump() for c in _eval_cases(directory, result)]
        click.echo(json.dumps(data, indent=2))
    else:
        _print_eval(result)
        if show_cases:
            from orchestrator.cli.render_cases import echo_cases

            echo_cases(_eval_cases(directory, result))
        if check is not None:
            click.echo(f"check {check!r}: {'holds' if holds else 'fails'}")
    if check is not None:
        sys.exit(CHECK_HOLDS if holds else CHECK_FAILS)


@cli.command("bisect")
@workspace_option
@click.option("--good", required=True, help="A ref where the check holds (e.g. exp/001).")
@click.option("--bad", required=True, help="A later ref where it fails.")
@click.option("--check", "check", required=True, help='e.g. "coverage>=3 and quality>0.4".')
@click.option("--gate", help="Gate to evaluate on (default: the keep gate).")
@click.option("--judge", help="Judge spec (default: the workspace's).")
@click.option("--model", help="Override the candidate model.")
def bisect_command(
    directory: str,
    good: str,
    bad: str,
    check: str,
    gate: str | None,
    judge: str | None,
    model: str | None,
) -> None:
    """Find the first kept experiment that broke CHECK, with `git bisect run` in a worktree."""
    from runlog.bisect import bisect

    ws = Workspace.open(directory, repair=False)
    result = bisect(ws, good=good, bad=bad, check=check, gate=gate, judge=judge, model=model)
    if result.first_bad is None:
        click.echo(result.log)
        raise WorkspaceError(f"git bisect could not name a first bad commit for {check!r}")
    name = f"exp{result.experiment}" if result.experiment else result.first_bad[:10]
    click.echo(f"first bad: {name} ({result.first_bad[:10]}): {result.hypothesis}")
    for key, value in result.trailers.items():
        click.echo(f"  {key}: {value}")


@cli.command("log")
@workspace_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per experiment.")
def log_command(directory: str, as_json: bool) -> None:
    """Every experiment: id, status (● on main's kept line), lever class, quality, W/T/L."""
    from runlog.views import log_view

    rows = log_view(Workspace.open(directory))
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    table = Table("id", "commit", "status", "class", "gate", "quality", "W/T/L", "hypothesis")
    for row in rows:
        wtl = MISSING if row["wins"] is None else f"{row['wins']}/{row['ties']}/{row['losses']}"
        status = row["status"] + (" ●" if row["on_main"] else "")
        table.add_row(
            row["id"],
            (row["commit"] or "-")[:7],
            status,
            row["lever_class"],
            row["gate"] or MISSING,
            format_number(row["quality"]),
            wtl,
            row["hypothesis"],
        )
    print_table(table)


@cli.command("show")
@click.argument("experiment")
@workspace_option
@click.option("--json", "as_json", is_flag=True)
@click.option("--cases", "show_cases", is_flag=True, help="Each case: plan, problems, verdict.")
def show_command(experiment: str, directory: str, as_json: bool, show_cases: bool) -> None:
    """One experiment: hypothesis, method, result, dimensions, diff and process diagram."""
    from runlog.views import experiment_view

    try:
        view = experiment_view(Workspace.open(directory), experiment)
    except ValueError as exc:
        raise WorkspaceError(str(exc)) from None
    if show_cases:  # --- per-case view (issue 17) ---
        from orchestrator.cli.render_cases import echo_cases
        from runlog.cases import experiment_cases

        cases = experiment_cases(Workspace.open(directory), experiment)
        view["cases"] = [c.model_dump() for c in cases]
        if not as_json:
            echo_cases(cases)
            return
    if as_json:
        click.echo(json.dumps(view, indent=2, default=str))
        return
    click.echo(
        f"{view['name']}  {view['status']}  {view['lever_class']}  "
        f"commit {(view['commit'] or '-')[:10]}  parent {view['parent'] or 'none'}"
    )
    click.echo(f"hypothesis: {view['hypothesis']}")
    if view["method"]:
        click.echo(f"method:     {view['method']}")
    if view["predicted_delta"] is not None or view["predicted_seconds"]:
        click.echo(f"predicted:  {_guess(view['predicted_delta'], view['predicted_seconds'])}")
        click.echo(f"observed:   {_guess(view['observed_delta'], view['observed_seconds'])}")
    if view["failure"]:
        click.echo(f"failure:    {view['failure']}")
    for g in view["gates"]:
        dims = " ".join(f"{d} {v:.2f}" for d, v in g["dimensions"].items())
        delta = f" Δ {g['comparison']['delta']:+.3f}" if g["comparison"] else ""
        click.echo(
            f"{g['gate']} ({g['mode']}, {g['judge']}): quality {g['quality']:.3f} "
            f"[{g['low']:.3f}, {g['high']:.3f}] W/T/L {g['wins']}/{g['ties']}/{g['losses']}{delta}"
        )
        click.echo(f"  {dims}")
        if g.get("stopped"):
            click.echo(f"  stopped early: {g['stopped']}")
    if view["diagram"]:
        click.echo("\nprocess:\n" + view["diagram"])
    click.echo("\ndiff against parent:\n" + (view["diff"] or "(no change to agent/)"))


def _guess(delta: float | None, seconds: float | None) -> str:
    """Δ and model seconds on the keep gate, '-' for either not known."""
    return (
        f"Δ {'-' if delta is None else f'{delta:+.3f}'} on the keep gate, "
        f"{'-' if not seconds else f'{seconds:.0f} s'} in the model"
    )


@cli.command("report")
@workspace_option
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False), help="Default: runlog/dashboard.html"
)
def report_command(directory: str, output: str | None) -> None:
    """Write the self-contained HTML dashboard."""
    from runlog.report import write_dashboard

    path = write_dashboard(Workspace.open(directory), Path(output) if output else None)
    click.echo(f"wrote {path}")
