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


def serve(
    directory: Path, host: str, port: int, allow_control: bool, unsafe_remote: bool = False
) -> None:
    """Run the live page until Ctrl-C; print its URL (with the control token when on).

    Control on a non-loopback host is refused unless `unsafe_remote`: the token would travel
    in plain HTTP. A read-only page on such a host is served with a warning."""
    if allow_control:
        refuse_remote(host, "steer the loop (notes, approvals, stop)", unsafe_remote)
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
    app = create_app(root, token, host=host)
    click.echo(f"live dashboard for {root}: {page_url(host, port, token)}")
    if token:
        click.echo("control is on: anyone with this URL can steer the loop")
    else:
        click.echo("read-only: start with --allow-control to steer from the page")
    if not is_loopback(host):
        click.echo(
            f"warning: listening on {host}, beyond this machine: anyone who reaches it reads "
            "the workspace's hypotheses and diffs",
            err=True,
        )
    uvicorn.run(app, host=host, port=port, log_level="warning")


def tui_command(directory: Path, start: bool, experiments: int | None) -> str:
    """The shell command textual-serve runs for each browser session: this `autoresearch tui`."""
    args = ["tui", "-C", str(Path(directory).resolve())] + (["--start"] if start else [])
    args += ["--experiments", str(experiments)] if experiments else []
    return shlex.join([sys.executable, "-c", "from orchestrator.cli import main; main()", *args])


def refuse_remote(host: str, what: str, unsafe: bool) -> None:
    """Refuse a non-loopback `--host` for `what` unless `--unsafe-remote` was given."""
    if not is_loopback(host) and not unsafe:
        raise AutoresearchError(
            f"--host {host} would let other machines {what} over plain HTTP: use --host "
            "127.0.0.1 (and an SSH tunnel), or add --unsafe-remote if you mean it"
        )


def serve_tui_web(
    directory: Path,
    start: bool,
    experiments: int | None,
    host: str,
    port: int,
    unsafe_remote: bool = False,
) -> None:
    """Serve the Textual TUI in the browser through textual-serve (one app per session),
    guarded by a per-run token, Host and Origin checks and a session cap (`GuardedServer`)."""
    refuse_remote(host, "drive the TUI (notes, approvals, stop)", unsafe_remote)
    try:
        from tui.web.tui_server import GuardedServer
    except ImportError as exc:
        raise AutoresearchError(
            "`tui --web` needs textual-serve: pip install 'autoresearch[web]'"
        ) from exc
    require_free_port(host, port)
    server = GuardedServer(tui_command(directory, start, experiments), host=host, port=port)
    click.echo(f"the TUI in a browser: {server.url}")
    click.echo(f"at most {server.max_sessions} sessions at once; anyone with this URL can steer")
    if not is_loopback(host):
        click.echo(f"warning: listening on {host}, beyond this machine", err=True)
    server.serve()


unsafe_remote_option = click.option(
    "--unsafe-remote",
    is_flag=True,
    help="Allow steering from a non-loopback --host (plain HTTP: anyone on the network with "
    "the URL can steer).",
)


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
    @unsafe_remote_option
    def serve_command(
        directory: Path, host: str, port: int, allow_control: bool, unsafe_remote: bool
    ) -> None:
        """A live dashboard in the browser: cards, chart, status and requests update as they
        happen."""
        serve(directory, host, port, allow_control, unsafe_remote)
