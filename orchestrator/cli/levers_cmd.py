"""`autoresearch levers` (installed levers, validation) and `autoresearch eval`."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from levers.config import BASELINE_AGENT, AgentConfig, load_agent
from levers.diagram import text_diagram
from levers.registry import LeverInfo, lever_classes
from levers.trace import trace_totals
from orchestrator.cli import cli

WORKSPACE_AGENT = Path("agent") / "agent.toml"


def params_summary(info: LeverInfo) -> str:
    """`field: type = default` for each param, from the Params JSON schema."""
    schema = info.schema()
    out = []
    for name, prop in schema.get("properties", {}).items():
        kind = prop.get("type") or "|".join(
            str(x.get("type", x.get("const", ""))) for x in prop.get("anyOf", [])
        )
        if "enum" in prop:
            kind = "|".join(map(str, prop["enum"]))
        out.append(f"{name}: {kind} = {json.dumps(prop.get('default'))}")
    return ", ".join(out) or "(none)"


def workspace_levers() -> Path | None:
    folder = WORKSPACE_AGENT.parent / "levers"
    return folder if folder.is_dir() else None


@cli.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (with each params schema).")
@click.pass_context
def levers(ctx: click.Context, as_json: bool) -> None:
    """List installed levers: name, lever class, params, source."""
    if ctx.invoked_subcommand is not None:
        return
    infos = lever_classes(workspace_levers())
    if as_json:
        rows = [
            {
                "name": i.name,
                "lever_class": i.lever_class,
                "source": i.source,
                "plugin": i.plugin,
                "description": i.cls.summary(),
                "params_schema": i.schema(),
            }
            for i in infos.values()
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table("name", "class", "source", "params", "description")
    for i in infos.values():
        table.add_row(i.name, i.lever_class, i.source, params_summary(i), i.cls.summary())
    Console().print(table)


@levers.command("validate")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--expect", default=None, help="Comma-separated lever names the file must register.")
@click.option("--json", "as_json", is_flag=True)
def levers_validate(path: Path, expect: str | None, as_json: bool) -> None:
    """Parse, import, register and smoke-run a lever file; exit 1 when it fails."""
    from levers.validate import validate_lever

    report = validate_lever(path, expect=expect.split(",") if expect else None)
    click.echo(report.model_dump_json(indent=2) if as_json else report.line())
    if not report.ok:
        raise click.exceptions.Exit(1)


def resolve_agent(agent_file: Path | None, model: str | None) -> tuple[AgentConfig, str]:
    """The agent to run: --agent FILE, else ./agent/agent.toml, else the built-in baseline."""
    if agent_file is None and WORKSPACE_AGENT.is_file():
        agent_file = WORKSPACE_AGENT
    config = load_agent(agent_file) if agent_file is not None else BASELINE_AGENT
    if model:
        config = config.model_copy(update={"model": model})
    return config, str(agent_file) if agent_file else "built-in baseline"


def _progress_bar(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


@cli.command("eval")
@click.option(
    "--agent",
    "agent_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="agent.toml (default: ./agent/agent.toml or the baseline).",
)
@click.option("--gate", default="dev-10", show_default=True)
@click.option(
    "--judge",
    "judge_spec",
    default="embedding",
    show_default=True,
    help="embedding (offline) or a model spec, e.g. anthropic:claude-sonnet-4-6.",
)
@click.option("--mode", type=click.Choice(["standard", "coverage-blind"]), default="standard")
@click.option("--model", "model_spec", default=None, help="Override the agent's model.")
@click.option("--json", "as_json", is_flag=True)
def eval_command(
    agent_file: Path | None,
    gate: str,
    judge_spec: str,
    mode: str,
    model_spec: str | None,
    as_json: bool,
) -> None:
    """Run the agent on a ruler gate and judge it: quality, dimensions, W/T/L, interval."""
    from levers.evaluate import evaluate_agent

    config, source = resolve_agent(agent_file, model_spec)
    console = Console(stderr=True)
    started = time.perf_counter()
    marks: dict[str, float] = {}
    with _progress_bar(console) as bar:
        tasks: dict[str, int] = {}

        def progress(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total)
            bar.update(tasks[phase], completed=done)
            if done == total:
                marks[phase] = time.perf_counter() - started

        result, runs = evaluate_agent(config, gate, judge_spec, mode, progress)  # type: ignore[arg-type]
    wall = time.perf_counter() - started
    if as_json:
        out = {
            "agent": source,
            "config": config.model_dump(),
            "result": result.model_dump(),
            "runs": [r.model_dump() for r in runs],
            "wall_seconds": round(wall, 2),
            "generate_seconds": round(marks.get("generate", 0.0), 2),
        }
        click.echo(json.dumps(out, indent=2, ensure_ascii=False))
        return
    print_result(config, source, result, runs, wall, marks.get("generate", 0.0))


def print_result(config, source, result, runs, wall: float, generate_s: float) -> None:
    console = Console()
    console.print(
        f"agent: {source}  model: {config.model}  gate: {result.gate}  "
        f"judge: {result.judge_id} ({result.mode})"
    )
    table = Table("quality", "95% interval", "W/T/L", *result.dimension_means)
    table.add_row(
        f"{result.quality:.3f}",
        f"[{result.interval.low:.3f}, {result.interval.high:.3f}]",
        f"{result.wins}/{result.ties}/{result.losses}",
        *(f"{v:.2f}" for v in result.dimension_means.values()),
    )
    console.print(table)
    failed = [r for r in runs if r.failed]
    totals = [trace_totals(r.trace) for r in runs]
    calls = sum(t["calls"] for t in totals)
    console.print(
        f"wall {wall:.1f}s (generation {generate_s:.1f}s), {calls} model calls, "
        f"{len(failed)} failed case(s)"
    )
    for run in failed:
        console.print(f"  [red]{run.case_id}[/red]: {run.error}")
    if runs:
        console.print("pipeline (first case):")
        console.print(text_diagram(runs[0].trace), end="", markup=False, highlight=False)
