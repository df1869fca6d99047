"""`autoresearch levers`: installed levers (name, class, params, source) and validation."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.table import Table

from levers.registry import LeverInfo, lever_classes, levers_for
from orchestrator.cli import cli, workspace_option
from orchestrator.cli.tables import print_table
from runlog.feature_spec import workspace_feature

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


def workspace_levers(directory: str | Path = ".") -> Path | None:
    """The workspace's `agent/levers/` folder under DIRECTORY, when there is one."""
    folder = Path(directory) / WORKSPACE_AGENT.parent / "levers"
    return folder if folder.is_dir() else None


@cli.group(invoke_without_command=True)
@workspace_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON (with each params schema).")
@click.pass_context
def levers(ctx: click.Context, directory: str, as_json: bool) -> None:
    """List the installed levers that fit the workspace's feature (with the workspace's lever
    files): name, class, params, source."""
    if ctx.invoked_subcommand is not None:
        return
    feature = workspace_feature(directory)
    infos = levers_for(feature, lever_classes(workspace_levers(directory)))
    if as_json:
        rows = [
            {
                "name": i.name,
                "lever_class": i.lever_class,
                "source": i.source,
                "plugin": i.plugin,
                "description": i.cls.summary(),
                "features": list(i.features),
                "params_schema": i.schema(),
            }
            for i in infos.values()
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table("name", "class", "source", "params", "description")
    for i in infos.values():
        table.add_row(i.name, i.lever_class, i.source, params_summary(i), i.cls.summary())
    print_table(table)


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
