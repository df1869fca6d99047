"""`autoresearch status`: where the workspace and its loop stand, and what needs the
supervisor."""

from __future__ import annotations

import json
import os

import click

from orchestrator import control
from orchestrator.cli import cli, workspace_option
from runlog.rows import format_number
from runlog.workspace import Workspace


@cli.command("status")
@workspace_option
@click.option("--json", "as_json", is_flag=True)
def status_command(directory: str, as_json: bool) -> None:
    """The workspace at a glance: settings, counts, the current best, what comes next."""
    from orchestrator.preflight import config_problems
    from runlog.calibration import Calibration
    from runlog.views import status_view

    ws = Workspace.open(directory)
    live = control.read_status(Workspace.open(directory, repair=False).main_root)
    view = {**status_view(ws), "problems": config_problems(ws)}
    view["researcher_resolved"] = resolved_researcher(view["researcher"])
    view["needs_you"] = needs_you(view["problems"], live, directory)
    view["sandbox"] = sandbox_line(ws)
    if as_json:
        click.echo(json.dumps(view, indent=2, default=str))
        return
    first, second = view["headline_lines"]  # the product's question, first
    click.echo(f"closeness  {first}")
    click.echo(f"           {second}")
    for i, need in enumerate(view["needs_you"] or ["nothing: the loop needs no answer from you"]):
        click.echo(f"{'needs you' if i == 0 else '':<10} {need}")
    for problem in view["problems"]:
        click.echo(f"problem    {problem}")
    counts = view["counts"]
    click.echo(f"workspace  {view['root']}")
    click.echo(f"candidate  {view['candidate']} · judge {view['judge']} · ruler {view['ruler']}")
    click.echo(f"researcher {view['researcher_resolved']}")
    click.echo(f"levers run {view['sandbox']}")
    doing = f" · exp{live.experiment} {live.node}" if live.state != "stopped" else ""
    click.echo(f"loop       {live.state.replace('_', ' ')}{doing}")
    if live.in_flight and live.state != "stopped":  # --parallel
        flying = ", ".join(f"exp{e} on {w}" for e, w in sorted(live.in_flight.items()))
        click.echo(f"in flight  {flying}")
    click.echo(
        f"experiments {view['experiments']} ({counts['kept']} kept, "
        f"{counts['discarded']} discarded, {counts['failed']} failed) · next exp{view['next_id']}"
    )
    best = view["best"]
    if best:
        click.echo(
            f"best       {best['name']} quality {format_number(best['quality'])} "
            f"[{format_number(best['low'])}, {format_number(best['high'])}] on {best['gate']}: "
            f"{best['hypothesis']}"
        )
    else:
        click.echo("best       none yet")
    echo_reliability(view)
    click.echo(f"researcher's predicted Δ: {Calibration(**view['calibration']).line()}")
    if view["uncommitted"]:
        click.echo(
            f"files      {len(view['uncommitted'])} changed since the last experiment commit "
            "(normal: the next commit carries them; nothing to do)"
        )


def sandbox_line(ws: Workspace) -> str:
    """What confines lever code now, and how many recorded experiments ran without a sandbox."""
    from levers.sandbox import describe

    bare = [r.id for r in ws.records() if r.sandbox.startswith("unsandboxed")]
    told = f" · {len(bare)} experiment(s) ran UNSANDBOXED: {', '.join(bare[:5])}" if bare else ""
    return f"in a sandbox: {describe()}{told}"


def resolved_researcher(spec: str) -> str:
    """`auto` spelled out as `make_researcher` resolves it here and now."""
    if spec != "auto":
        return spec
    if os.environ.get("ANTHROPIC_API_KEY"):
        return "anthropic:claude-sonnet-4-6 (auto: ANTHROPIC_API_KEY is set)"
    return "heuristic (auto: no ANTHROPIC_API_KEY, so the offline one)"


def needs_you(problems: list[str], live: control.LiveStatus, directory: str) -> list[str]:
    """What waits for the user, each with the command that answers it (empty: nothing)."""
    count = len(problems)
    needs = [f"{count} configuration problem{'s' * (count > 1)} to fix (below)"] if count else []
    request = live.pending_request
    if live.state == "waiting_for_approval" and request:
        rid = request.get("id", "")
        needs.append(
            f"{request.get('kind', 'a request')} {rid} waits for you: "
            f"autoresearch approve -C {directory} {rid}  (or deny)"
        )
    elif live.state == "paused":
        needs.append(f"the loop is paused: autoresearch resume -C {directory}")
    return needs


def echo_reliability(view: dict) -> None:
    """status: the best's re-measure, expected false keeps, the judge's calibration (issue 16)."""
    from runlog.reliability import recheck_text

    if view.get("recheck"):
        click.echo(f"recheck    {view['best']['name']} {recheck_text(view['recheck'])}")
    keep = view["keep_reliability"]
    click.echo(f"kept       {keep['kept']} · {keep['text']}")
    judge = view["judge_reliability"]
    click.echo(f"judge's calibration ({judge['judge_id'] or 'unknown'}): {judge['text']}")
