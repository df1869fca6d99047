"""The ASGI app behind `autoresearch serve`: the page, its event stream, guarded control.

`GET /` renders the dashboard as it stands; `GET /events` streams what changes after it
(server-sent events; each event's id is a feed cursor, so a reconnecting browser resumes where
it stopped; the cursor is validated and clamped, see `tui.web.feed`). `POST /control/{kind}`
appends a command to the loop's control channel, only when the server was started with control
on, only with the run's token (header `X-Autoresearch-Token`, or `?token=`), only from the
page's own origin and only with a JSON body (which a cross-site form cannot send without a
CORS preflight this server never answers); anything else is refused.

Every route answers only Host headers naming this machine's loopback names or the `--host`
given (starlette's `TrustedHostMiddleware`): a DNS-rebinding page, whose requests carry its own
host name, gets 400.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from anyio import to_thread
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sse_starlette import EventSourceResponse
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from orchestrator import control
from runlog.workspace import Workspace
from tui.web.feed import Cursor, FeedEvent, WorkspaceFeed, clamp_cursor, current_cursor
from tui.web.render import render_card, render_overview, render_page

POLL_SECONDS = 0.2
TOKEN_HEADER = "X-Autoresearch-Token"
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]")


class ControlRequest(BaseModel):
    """The body of a control request (all fields optional: pause needs none)."""

    model_config = ConfigDict(extra="forbid")

    text: str = ""
    request: str | None = None
    trainings: int | None = Field(None, ge=1)  # approve: a training budget (the page asks)


class LivePage:
    """One served workspace; `token` is None when control is off (every request refused)."""

    def __init__(self, workspace: Path, token: str | None = None) -> None:
        self.ws = Workspace.open(workspace, repair=False)
        self.token = token

    async def page(self, request: Request) -> HTMLResponse:
        html = await to_thread.run_sync(self._render_page)
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    def _render_page(self) -> str:
        cursor = current_cursor(self.ws)
        return render_page(self.ws, cursor.encode(), control=self.token is not None)

    async def events(self, request: Request) -> EventSourceResponse:
        given = Cursor.decode(request.headers.get("last-event-id")) or Cursor.decode(
            request.query_params.get("cursor")
        )
        if given is None:
            cursor = await to_thread.run_sync(current_cursor, self.ws)
        else:
            cursor = await to_thread.run_sync(clamp_cursor, self.ws, given)
        return EventSourceResponse(self._stream(WorkspaceFeed(self.ws, cursor)), ping=15)

    async def _stream(self, feed: WorkspaceFeed) -> AsyncIterator[dict[str, Any]]:
        while True:
            for event in await to_thread.run_sync(self._next, feed):
                yield event
            await asyncio.sleep(POLL_SECONDS)

    def _next(self, feed: WorkspaceFeed) -> list[dict[str, Any]]:
        """The feed's new events as SSE messages; an experiment carries its rendered card."""
        messages = []
        for event in feed.poll():
            data = self._payload(event)
            messages.append(
                {"event": event.name, "id": feed.cursor.encode(), "data": json.dumps(data)}
            )
        return messages

    def _payload(self, event: FeedEvent) -> dict[str, Any]:
        if event.name != "experiment":
            return event.data
        exp = event.data["id"]
        return {"id": exp, "card": render_card(self.ws, exp), **render_overview(self.ws)}

    async def command(self, request: Request) -> Response:
        kind = request.path_params["kind"]
        if self.token is None:
            return refuse("control is off: start `autoresearch serve --allow-control` to steer")
        origin = request.headers.get("origin")
        if origin is not None and origin != same_origin(request):
            return refuse(f"cross-site request from {origin!r} refused: use the page itself")
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return JSONResponse({"error": "a control request needs a JSON body"}, 415)
        given = request.headers.get(TOKEN_HEADER) or request.query_params.get("token") or ""
        if not secrets.compare_digest(given.encode(), self.token.encode()):
            return refuse("missing or wrong token: use the URL `autoresearch serve` printed")
        try:
            body = ControlRequest.model_validate_json(await request.body())
        except ValidationError as exc:
            return JSONResponse({"error": f"bad request body: {exc.errors()[0]['msg']}"}, 400)
        if kind == "note" and not body.text.strip():
            return JSONResponse({"error": "a note needs text"}, status_code=400)
        try:  # the channel validates the kind (note, pause, resume, stop, approve, deny)
            grant = control.TrainingGrant(trainings=body.trainings) if body.trainings else None
            sent = control.send(self.ws.main_root, kind, body.text, body.request, grant)
        except ValidationError:
            return JSONResponse({"error": f"unknown command {kind!r}"}, status_code=404)
        return JSONResponse({"message": f"sent {sent.kind}", "id": sent.id})


def refuse(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=403)


def same_origin(request: Request) -> str:
    """The Origin a request from the page itself carries (its scheme and trusted Host)."""
    return f"{request.url.scheme}://{request.headers.get('host', '')}"


def trusted_hosts(host: str) -> list[str]:
    """The Host names the page answers: loopback names, `host`, and for a wildcard bind this
    machine's name and addresses."""
    names = [*LOOPBACK_HOSTS, host]
    if host in ("0.0.0.0", "::"):
        names.remove(host)
        try:
            name, aliases, addresses = socket.gethostbyname_ex(socket.gethostname())
        except OSError:
            name, aliases, addresses = socket.gethostname(), [], []
        names += [name, *aliases, *addresses]
    names += [f"[{n}]" for n in names if ":" in n and not n.startswith("[")]  # IPv6 literals
    return list(dict.fromkeys(names))


def create_app(workspace: Path, token: str | None = None, host: str = "127.0.0.1") -> Starlette:
    """The app for `workspace` listening on `host`; pass a token to allow control requests
    that carry it."""
    live = LivePage(workspace, token)
    return Starlette(
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=trusted_hosts(host))],
        routes=[
            Route("/", live.page),
            Route("/events", live.events),
            Route("/control/{kind}", live.command, methods=["POST"]),
        ],
    )
