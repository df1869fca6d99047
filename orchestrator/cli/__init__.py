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


HELP_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Start here", ("init", "run", "status", "tui")),
    (
        "Watch and steer",
        ("serve", "log", "show", "report", "note", "pause", "resume", "stop", "approve", "deny"),
    ),
    (
        "Evaluate and investigate",
        ("eval", "bisect", "ceiling", "ceiling-table", "rejudge", "notes-analysis", "plan"),
    ),
    ("The agent, models and ruler", ("levers", "models", "adapters", "train", "ruler", "judge")),
)


class SectionedGroup(click.Group):
    """`--help` lists commands in sections, "Start here" first; the rest under "Other"."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        known = [name for _, names in HELP_SECTIONS for name in names if name in self.commands]
        return known + sorted(set(self.commands) - set(known))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        placed: set[str] = set()
        limit = formatter.width - 6 - max((len(n) for n in self.commands), default=0)
        sections = [*HELP_SECTIONS, ("Other", tuple(sorted(self.commands)))]
        for title, names in sections:
            rows = []
            for name in names:
                command = self.get_command(ctx, name)
                if command is None or command.hidden or name in placed:
                    continue
                placed.add(name)
                rows.append((name, command.get_short_help_str(limit)))
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


@click.group(cls=SectionedGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_version(), prog_name="autoresearch")
@click.option(
    "--unsandboxed",
    is_flag=True,
    help="Run lever code without an OS sandbox (where none exists, or to debug a lever); "
    "every record made so says it.",
)
def cli(unsandboxed: bool) -> None:
    """autoresearch: how close can a small on-device model get to a frontier one?

    New here? `autoresearch init demo`, then `autoresearch run -C demo`, then
    `autoresearch status -C demo` (how close the best agent is to the gold and the cloud).
    """
    if unsandboxed:
        from levers.sandbox import allow_unsandboxed

        allow_unsandboxed()  # inherited by every process the command starts


COMMAND_MODULES: tuple[str, ...] = (
    "orchestrator.cli.models_cmd",
    "orchestrator.cli.ruler_cmd",
    "orchestrator.cli.levers_cmd",
    "orchestrator.cli.runlog_cmd",
    "orchestrator.cli.status_cmd",
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
