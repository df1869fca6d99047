"""What a cross-site page, a DNS-rebinding page or a hostile client can do to the two web views:
`autoresearch tui --web` (textual-serve, guarded) and `autoresearch serve` (starlette).
Neither may be read nor driven from another origin; every read is bounded."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from starlette.testclient import TestClient

from models import AutoresearchError
from orchestrator import control
from runlog.workspace import Workspace
from tests.tui.helpers import commit_experiment
from tui.web.app import TOKEN_HEADER, create_app, trusted_hosts
from tui.web.commands import refuse_remote, serve, serve_tui_web
from tui.web.feed import (
    MAX_READ,
    REPLAY_WINDOW,
    Cursor,
    WorkspaceFeed,
    clamp_cursor,
    current_cursor,
    tail_lines,
)
from tui.web.tui_server import GuardedServer

TOKEN = "test-token"
PAGE = "http://127.0.0.1:8750"
PORT = 8000

# -- tui --web: the guarded textual-serve server ----------------------------------------------

# a stand-in for the TUI process: reads its stdin until the server closes it
APP = "python3 -c 'import sys; sys.stdin.buffer.read()'"


async def guarded(max_sessions: int = 2) -> tuple[GuardedServer, TestServer]:
    server = GuardedServer(APP, "localhost", PORT, token=TOKEN, max_sessions=max_sessions)
    test_server = TestServer(await server._make_app(), host="127.0.0.1")
    await test_server.start_server()
    return server, test_server


def at(test_server: TestServer, path: str) -> str:
    return f"http://127.0.0.1:{test_server.port}{path}"


HOST = {"Host": f"localhost:{PORT}"}
OWN_ORIGIN = {**HOST, "Origin": f"http://localhost:{PORT}"}


async def test_tui_web_index_needs_the_token_and_a_local_host() -> None:
    server, test_server = await guarded()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(at(test_server, f"/?token={TOKEN}"), headers=HOST) as page:
                assert page.status == 200
                html = await page.text()
            assert f'"ws://localhost:{PORT}/ws/{TOKEN}"' in html  # the websocket carries it too
            for path, headers in [
                ("/", HOST),  # no token
                ("/?token=guess", HOST),
                (f"/?token={TOKEN}", {"Host": f"attacker.example:{PORT}"}),  # DNS rebinding
                (f"/?token={TOKEN}", {"Host": "localhost:9999"}),
            ]:
                async with http.get(at(test_server, path), headers=headers) as answer:
                    assert answer.status == 403, (path, headers)
    finally:
        await test_server.close()


async def test_a_cross_site_page_cannot_open_the_tui_websocket() -> None:
    server, test_server = await guarded()
    try:
        async with aiohttp.ClientSession() as http:
            for path, headers in [
                (f"/ws/{TOKEN}", {**HOST, "Origin": "http://attacker.example"}),
                (f"/ws/{TOKEN}", {**HOST, "Origin": f"http://localhost:{PORT + 1}"}),
                ("/ws", OWN_ORIGIN),  # textual-serve's own, unguarded route
                ("/ws/guess", OWN_ORIGIN),
            ]:
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await http.ws_connect(at(test_server, path), headers=headers)
                assert refused.value.status == 403, path
            assert server.sessions == 0  # no TUI process was started

            socket = await http.ws_connect(at(test_server, f"/ws/{TOKEN}"), headers=OWN_ORIGIN)
            await socket.send_str(json.dumps(["ping", "x"]))
            assert json.loads((await socket.receive(timeout=10)).data) == ["pong", "x"]
            await socket.close()
    finally:
        await test_server.close()


async def test_tui_sessions_are_capped() -> None:
    server, test_server = await guarded(max_sessions=2)
    try:
        async with aiohttp.ClientSession() as http:
            url = at(test_server, f"/ws/{TOKEN}")
            open_ = [await http.ws_connect(url, headers=OWN_ORIGIN) for _ in range(2)]
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(url, headers=OWN_ORIGIN)
            assert refused.value.status == 503 and server.sessions == 2
            await open_[0].close()
            for _ in range(100):
                if server.sessions < 2:
                    break
                await asyncio.sleep(0.05)
            again = await http.ws_connect(url, headers=OWN_ORIGIN)  # a closed one frees a place
            for socket in (again, open_[1]):
                await socket.close()
    finally:
        await test_server.close()


def test_a_remote_host_is_refused_without_the_unsafe_flag(workspace: Path) -> None:
    with pytest.raises(AutoresearchError, match="--unsafe-remote"):
        serve_tui_web(workspace, False, None, "0.0.0.0", PORT)
    with pytest.raises(AutoresearchError, match="--unsafe-remote"):
        serve(workspace, "192.168.1.5", 8750, allow_control=True)
    refuse_remote("127.0.0.1", "steer", unsafe=False)  # loopback: nothing to refuse
    refuse_remote("0.0.0.0", "steer", unsafe=True)  # said explicitly


# -- serve: Host, Origin, body -----------------------------------------------------------------


def page_client(workspace: Path, token: str | None = TOKEN) -> TestClient:
    return TestClient(create_app(workspace, token), base_url=PAGE)


def test_serve_refuses_a_dns_rebinding_host(workspace: Path) -> None:
    commit_experiment(workspace, "001")
    client = page_client(workspace)
    assert client.get("/").status_code == 200
    rebound = {"Host": "attacker.example:8750"}
    assert client.get("/", headers=rebound).status_code == 400
    assert client.get("/events?cursor=0.0.0", headers=rebound).status_code == 400
    sent = client.post("/control/pause", headers={**rebound, TOKEN_HEADER: TOKEN}, json={})
    assert sent.status_code == 400 and control.read_commands(workspace)[0] == []


def test_trusted_hosts_are_loopback_and_the_given_host() -> None:
    assert set(trusted_hosts("127.0.0.1")) == {"localhost", "127.0.0.1", "::1", "[::1]"}
    assert "10.0.0.7" in trusted_hosts("10.0.0.7") and "0.0.0.0" not in trusted_hosts("0.0.0.0")


def test_control_refuses_a_foreign_origin_and_a_non_json_body(workspace: Path) -> None:
    client = page_client(workspace)
    token = {TOKEN_HEADER: TOKEN}
    cross = client.post(
        "/control/stop", headers={**token, "Origin": "http://attacker.example"}, json={}
    )
    assert cross.status_code == 403 and "cross-site" in cross.json()["error"]
    form = client.post("/control/note", headers=token, data={"text": "from a form"})
    assert form.status_code == 415
    empty = client.post("/control/pause", headers=token)
    assert empty.status_code == 415
    assert control.read_commands(workspace)[0] == []
    own = client.post("/control/pause", headers={**token, "Origin": PAGE}, json={})
    assert own.status_code == 200 and len(control.read_commands(workspace)[0]) == 1


# -- serve: hostile and broken files -----------------------------------------------------------


def test_a_garbage_record_is_a_placeholder_card_not_a_500(workspace: Path) -> None:
    commit_experiment(workspace, "001")
    ws = Workspace.open(workspace)
    ws.record_path("002").write_text('{"id": "002", "status": 7}')
    page = page_client(workspace).get("/")
    assert page.status_code == 200
    assert 'id="exp002"' in page.text and "not a valid experiment record" in page.text
    assert 'id="exp001"' in page.text


def test_a_hostile_cursor_is_refused_or_clamped(workspace: Path) -> None:
    assert Cursor.decode("².0.0") is None and Cursor.decode("9" * 5000 + ".0.0") is None
    ws = Workspace.open(workspace)
    ws.append_event("note", {"text": "one"})
    end = current_cursor(ws)
    assert clamp_cursor(ws, Cursor(999, 10**12, 10**12)) == end
    client = page_client(workspace)
    for cursor in ("².0.0", "9" * 5000 + ".0.0"):  # a 500 before
        with client.stream("GET", f"/events?cursor={cursor}", timeout=5) as answer:
            assert answer.status_code == 200
            break


def test_non_object_lines_are_skipped_and_truncation_resets(workspace: Path) -> None:
    ws = Workspace.open(workspace)
    ws.events_path.write_text('[1, 2]\n"text"\n7\nnull\n{"kind": "note"}\n')
    items, offset = tail_lines(ws.events_path, 0)
    assert items == [{"kind": "note"}] and offset == ws.events_path.stat().st_size

    feed = WorkspaceFeed(ws, current_cursor(ws), status={})
    feed.poll()
    ws.events_path.write_text('{"kind": "after"}\n')  # truncated and rewritten
    assert [e.data for e in feed.poll() if e.name == "event"] == [{"kind": "after"}]


def test_reads_are_bounded_per_poll_and_per_replay(workspace: Path) -> None:
    ws = Workspace.open(workspace)
    line = json.dumps({"kind": "note", "payload": {"text": "x" * 200}}) + "\n"
    count = (4 * REPLAY_WINDOW) // len(line)
    ws.events_path.write_text(line * count)
    start = clamp_cursor(ws, Cursor(0, 0, 0))  # a replay from the start of a 4 MiB log
    size = ws.events_path.stat().st_size
    assert size - REPLAY_WINDOW - len(line) <= start.events <= size - REPLAY_WINDOW
    assert start.events % len(line) == 0  # at a line's start

    items, offset = tail_lines(ws.events_path, 0)
    assert 0 < offset <= MAX_READ and len(items) == offset // len(line)
    ws.events_path.write_text("y" * (MAX_READ * 2) + "\n" + line)  # one line longer than a read
    seen, offset = [], 0
    for _ in range(4):
        items, offset = tail_lines(ws.events_path, offset)
        seen += items
    assert seen == [json.loads(line)]
