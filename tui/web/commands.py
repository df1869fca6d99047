"""`autoresearch serve` (the live page) and the browser half of `autoresearch tui --web`."""

from __future__ import annotations

import ipaddress
import secrets
import shlex
import socket
import sys
from pathlib import Path

import click

from models import AutoresearchError

DEFAULT_PORT = 8750


def is_loopback(host: str) -> bool:
    """Whether `host` only listens on this machine (localhost, 127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_free_port(host: str, port: int) -> None:
    """Fail in one line, before printing a URL, when the address is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise AutoresearchError(
                f"cannot listen on {host}:{port} ({exc.strerror}): choose another --port"
            ) from None


def page_url(host: str, port: int, token: str | None) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    shown = f"[{shown}]" if ":" in shown else shown
    return f"http://{shown}:{port}/" + (f"?token={token}" if token else "")


def serve(directory: Path, host: str, port: int, allow_control: bool) -> None:
    """Run the live page until Ctrl-C; print its URL (with the control token when on)."""
    try:
        import uvicorn

        from tui.web.app import create_app
    except ImportError as exc:
        raise AutoresearchError(
            f"`serve` needs the web extra ({exc.name} is missing): pip install 'autoresearch[web]'"
        ) from exc
    from runlog.workspace import Workspace

    root = Workspace.open(directory, repair=False).root
    require_free_port(host, port)
    token = secrets.token_urlsafe(24) if allow_control else None
    app = create_app(root, token)
    click.echo(f"live dashboard for {root}: {page_url(host, port, token)}")
    if token:
        click.echo("control is on: anyone with this URL can steer the loop")
        if not is_loopback(host):
            click.echo(f"warning: listening on {host}, beyond this machine", err=True)
    else:
        click.echo("read-only: start with --allow-control to steer from the page")
    uvicorn.run(app, host=host, port=port, log_level="warning")


def tui_command(directory: Path, start: bool, experiments: int | None) -> str:
    """The shell command textual-serve runs for each browser session: this `autoresearch tui`."""
    args = ["tui", "-C", str(Path(directory).resolve())] + (["--start"] if start else [])
    args += ["--experiments", str(experiments)] if experiments else []
    return shlex.join([sys.executable, "-c", "from orchestrator.cli import main; main()", *args])


def serve_tui_web(
    directory: Path, start: bool, experiments: int | None, host: str, port: int
) -> None:
    """Serve the Textual TUI in the browser through textual-serve (one app per session)."""
    try:
        from textual_serve.server import Server
    except ImportError as exc:
        raise AutoresearchError(
            "`tui --web` needs textual-serve: pip install 'autoresearch[web]'"
        ) from exc
    Server(
        tui_command(directory, start, experiments), host=host, port=port, title="autoresearch"
    ).serve()


def register_serve(cli: click.Group) -> None:
    """Add `autoresearch serve` to the group (called from the TUI's register_commands hook)."""

    @cli.command("serve")
    @click.option(
        "-C",
        "directory",
        default=".",
        type=click.Path(file_okay=False, path_type=Path),
        help="Workspace folder (default: the current one).",
    )
    @click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
    @click.option("--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True)
    @click.option(
        "--allow-control",
        is_flag=True,
        help="Let the page send notes, pause/resume/stop, approve/deny (with the printed token).",
    )
    def serve_command(directory: Path, host: str, port: int, allow_control: bool) -> None:
        """A live dashboard in the browser: cards, chart, status and requests update as they
        happen."""
        serve(directory, host, port, allow_control)
