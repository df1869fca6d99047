"""Adds `autoresearch tui` through the `register_commands` hook (a default command plugin)."""

from __future__ import annotations

from pathlib import Path

import click

from models.hookspecs import hookimpl


@hookimpl
def register_commands(cli: click.Group) -> None:
    @cli.command()
    @click.option(
        "-C",
        "--directory",
        "directory",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("."),
        help="The workspace (default: the current folder).",
    )
    @click.option("--start", is_flag=True, help="Start a loop here when none runs.")
    @click.option(
        "--experiments", type=click.IntRange(min=1), default=None, help="With --start: how many."
    )
    def tui(directory: Path, start: bool, experiments: int | None) -> None:
        """Supervise the workspace's loop: watch, note, pause, approve, chart, bisect."""
        from tui.app import AutoresearchApp
        from tui.workspace_source import WorkspaceSource

        app = AutoresearchApp(WorkspaceSource(directory), start=start, experiments=experiments)
        app.run()
