"""Adds `autoresearch tui` and `autoresearch serve` through the `register_commands` hook."""

from __future__ import annotations

from pathlib import Path

import click

from models.hookspecs import hookimpl
from tui.web.commands import unsafe_remote_option


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
    @click.option("--web", is_flag=True, help="Serve the TUI in the browser (textual-serve).")
    @click.option("--host", default="localhost", show_default=True, help="With --web.")
    @click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
    @unsafe_remote_option
    def tui(
        directory: Path,
        start: bool,
        experiments: int | None,
        web: bool,
        host: str,
        port: int,
        unsafe_remote: bool,
    ) -> None:
        """Supervise the workspace's loop: watch, note, pause, approve, chart, bisect."""
        if web:
            from tui.web.commands import serve_tui_web

            serve_tui_web(directory, start, experiments, host, port, unsafe_remote)
            return
        from tui.app import AutoresearchApp
        from tui.workspace_source import WorkspaceSource

        app = AutoresearchApp(WorkspaceSource(directory), start=start, experiments=experiments)
        app.run()

    from tui.web.commands import register_serve

    register_serve(cli)
