"""`autoresearch tui --web`: textual-serve's server, guarded so that only this run's URL drives it.

textual-serve starts one TUI process per websocket and forwards keystrokes to it; unguarded, any
page the user visits could open `ws://localhost:8000/ws` and type a note, approve a training
request or stop the loop. `GuardedServer` adds, on every route:

- a Host check (the loopback names and the `--host` given, at this port): DNS rebinding fails;
- an Origin check: a request that carries an Origin must come from this server's own origin
  (browsers always send one on a websocket, so a cross-site page is refused);
- a per-run token: the index needs `?token=`, the websocket lives at `/ws/<token>`;
- a cap on concurrent TUI sessions (each is a process): the next one is answered 503.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from textual_serve.server import Server

MAX_SESSIONS = 3
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "[::1]")


def allowed_host_names(host: str) -> set[str]:
    """Host names (without port) this server answers to: the loopback names and `host`."""
    names = {*LOOPBACK_NAMES, host}
    if host in ("0.0.0.0", "::"):
        names.discard(host)  # a wildcard bind is reached by a name, never by this text
    return {n.strip("[]").lower() for n in names}


def split_host(value: str) -> tuple[str, int | None]:
    """`("localhost", 8000)` from `localhost:8000`, `[::1]:8000` or `localhost`."""
    parts = urlsplit(f"//{value}")
    try:
        port = parts.port
    except ValueError:
        return "", None
    return (parts.hostname or "").lower(), port


class GuardedServer(Server):
    """textual-serve's `Server` with a token, Host and Origin checks and a session cap."""

    def __init__(
        self,
        command: str,
        host: str,
        port: int,
        *,
        token: str | None = None,
        max_sessions: int = MAX_SESSIONS,
        title: str = "autoresearch",
    ) -> None:
        shown = "localhost" if host in ("0.0.0.0", "::") else host
        shown = f"[{shown}]" if ":" in shown else shown
        super().__init__(
            command, host=host, port=port, title=title, public_url=f"http://{shown}:{port}"
        )
        self.token = token or secrets.token_urlsafe(24)
        self.hosts = allowed_host_names(host)
        self.max_sessions = max_sessions
        self.sessions = 0

    @property
    def url(self) -> str:
        """The URL to open (the only one the index answers)."""
        return f"{self.public_url}/?token={self.token}"

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.router.add_get("/ws/{token}", self.handle_websocket, name="guarded-websocket")
        app.middlewares.append(self.guard)
        return app

    def refusal(self, request: web.Request) -> str | None:
        """Why `request` is refused (None when it passes the Host and Origin checks)."""
        name, port = split_host(request.host or "")
        if name not in self.hosts or port not in (None, self.port):
            return f"unknown Host {request.host!r}: open the URL `autoresearch tui --web` printed"
        origin = request.headers.get("Origin")
        if origin is not None:
            parts = urlsplit(origin)
            try:
                origin_port = parts.port or (443 if parts.scheme == "https" else 80)
            except ValueError:
                origin_port = None
            if (parts.hostname or "").lower() not in self.hosts or origin_port != self.port:
                return f"cross-site request from {origin!r} refused"
        return None

    @web.middleware
    async def guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        why = self.refusal(request)
        if why is not None:
            return web.Response(status=403, text=why)
        route = request.match_info.route.name
        if route == "websocket":  # textual-serve's own, unguarded websocket: never served
            return web.Response(status=403, text="this websocket needs the run's token")
        if route in ("index", "guarded-websocket"):
            given = request.query.get("token", "") if route == "index" else ""
            given = request.match_info.get("token", given)
            if not secrets.compare_digest(given.encode(), self.token.encode()):
                return web.Response(
                    status=403, text="missing or wrong token: use the URL `tui --web` printed"
                )
        return await handler(request)

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        response = await super().handle_index(request)
        assert isinstance(response, web.Response) and response.text is not None
        ws_url = self.public_url.replace("http", "ws", 1) + "/ws"
        response.text = response.text.replace(f'"{ws_url}"', f'"{ws_url}/{self.token}"')
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
        if self.sessions >= self.max_sessions:
            return web.Response(
                status=503,
                text=f"{self.sessions} TUI sessions are open (the most is {self.max_sessions}): "
                "close one",
            )
        self.sessions += 1
        try:
            return await super().handle_websocket(request)
        finally:
            self.sessions -= 1

    async def on_startup(self, app: web.Application) -> None:
        """Print nothing: `tui --web` prints the URL with its token itself."""
