"""The `autoresearch` command line: one click group, command modules, plugin commands."""

from __future__ import annotations

import importlib
import sys
from importlib.metadata import PackageNotFoundError, version

import click

from models import AutoresearchError
from models.plugins import ensure_plugins, pm, register_modules
from orchestrator import hookspecs

pm.add_hookspecs(hookspecs)

COMMAND_PLUGINS: tuple[str, ...] = ("tui.commands",)


def workspace_option(fn):
    """`-C DIR`: the workspace folder, as in `git -C`."""
    return click.option(
        "-C",
        "directory",
        default=".",
        type=click.Path(file_okay=False),
        help="Workspace folder (default: the current one).",
    )(fn)


def _version() -> str:
    try:
        return version("autoresearch")
    except PackageNotFoundError:
        return "0+unknown"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_version(), prog_name="autoresearch")
def cli() -> None:
    """autoresearch: how close can a small on-device model get to a frontier one?"""


COMMAND_MODULES: tuple[str, ...] = (
    "orchestrator.cli.models_cmd",
    "orchestrator.cli.ruler_cmd",
    "orchestrator.cli.levers_cmd",
    "orchestrator.cli.runlog_cmd",
    "orchestrator.cli.loop_cmd",
    "orchestrator.cli.train_cmd",
    "orchestrator.cli.reference_cmd",
)


def load_commands() -> click.Group:
    """Import every command module (each adds to `cli`), then the plugins' commands."""
    for module in COMMAND_MODULES:
        importlib.import_module(module)
    register_modules(COMMAND_PLUGINS)
    ensure_plugins().hook.register_commands(cli=cli)
    return cli


def main() -> None:
    load_commands()
    try:
        code = cli.main(standalone_mode=False)  # click returns ctx.exit(n) codes here
        sys.exit(code if isinstance(code, int) else 0)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except AutoresearchError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
