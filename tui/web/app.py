"""The ASGI app behind `autoresearch serve`: the page, its event stream, guarded control.

`GET /` renders the dashboard as it stands; `GET /events` streams what changes after it
(server-sent events; each event's id is a feed cursor, so a reconnecting browser resumes where
it stopped). `POST /control/{kind}` appends a command to the loop's control channel, only when
the server was started with control on, and only with the run's token (header
`X-Autoresearch-Token`, or `?token=`); anything else is answered 403.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from anyio import to_thread
from pydantic import BaseModel, ConfigDict, ValidationError
from sse_starlette import EventSourceResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from orchestrator import control
from runlog.workspace import Workspace
from tui.web.feed import Cursor, FeedEvent, WorkspaceFeed, current_cursor
from tui.web.render import render_card, render_overview, render_page

POLL_SECONDS = 0.2
TOKEN_HEADER = "X-Autoresearch-Token"


class ControlRequest(BaseModel):
    """The body of a control request (all fields optional: pause needs none)."""

    model_config = ConfigDict(extra="forbid")

    text: str = ""
    request: str | None = None


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
        cursor = (
            Cursor.decode(request.headers.get("last-event-id"))
            or Cursor.decode(request.query_params.get("cursor"))
            or await to_thread.run_sync(current_cursor, self.ws)
        )
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
        given = request.headers.get(TOKEN_HEADER) or request.query_params.get("token") or ""
        if not secrets.compare_digest(given.encode(), self.token.encode()):
            return refuse("missing or wrong token: use the URL `autoresearch serve` printed")
        try:
            body = ControlRequest.model_validate_json(await request.body() or b"{}")
        except ValidationError as exc:
            return JSONResponse({"error": f"bad request body: {exc.errors()[0]['msg']}"}, 400)
        if kind == "note" and not body.text.strip():
            return JSONResponse({"error": "a note needs text"}, status_code=400)
        try:  # the channel validates the kind (note, pause, resume, stop, approve, deny)
            sent = control.send(self.ws.main_root, kind, body.text, body.request)
        except ValidationError:
            return JSONResponse({"error": f"unknown command {kind!r}"}, status_code=404)
        return JSONResponse({"message": f"sent {sent.kind}", "id": sent.id})


def refuse(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=403)


def create_app(workspace: Path, token: str | None = None) -> Starlette:
    """The app for `workspace`; pass a token to allow control requests that carry it."""
    live = LivePage(workspace, token)
    return Starlette(
        routes=[
            Route("/", live.page),
            Route("/events", live.events),
            Route("/control/{kind}", live.command, methods=["POST"]),
        ]
    )
