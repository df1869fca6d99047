"""`autoresearch serve`: the live page in headless Chromium (read over the DevTools protocol),
the event feed it is built on, and its guarded control requests. Loopback only, time-bounded."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from models import AutoresearchError
from orchestrator import control
from orchestrator.control import LiveStatus
from runlog.gitstore import write_record
from runlog.records import ExperimentRecord
from runlog.workspace import Workspace
from tests.tui.cdp import Chromium
from tests.tui.helpers import commit_experiment, gate_result
from tui.web.app import TOKEN_HEADER, create_app
from tui.web.commands import is_loopback, require_free_port, tui_command
from tui.web.feed import Cursor, WorkspaceFeed, current_cursor, status_snapshot

TOKEN = "test-token"
REQUEST = {"id": "req-7", "kind": "sft", "rationale": "plateau after three experiments"}


def commands(root: Path) -> list[control.ControlCommand]:
    return control.read_commands(root)[0]


def commit_discarded(root: Path, exp: str) -> None:
    """A discarded experiment with a decision, per-case verdicts and an agent diff."""
    ws = Workspace.open(root)
    ws.agent_path.write_text(ws.agent_path.read_text().replace("max_tokens", "# live\nmax_tokens"))
    record = ExperimentRecord(
        id=exp,
        hypothesis="a comment in the agent",
        lever_class="decoding",
        status="discarded",
        decision="Δ -0.020 on dev-10 is below the screen's threshold",
        gates=[gate_result(0.28, delta=-0.02)],
    )
    ws.commit_experiment(record)


# -- the feed --------------------------------------------------------------------------------


def test_cursor_round_trips_and_rejects_other_text() -> None:
    assert Cursor.decode(Cursor(3, 120, 45).encode()) == Cursor(3, 120, 45)
    assert Cursor.decode("3.x.1") is None and Cursor.decode(None) is None


def test_feed_reports_what_happens_after_its_cursor(workspace: Path) -> None:
    commit_experiment(workspace, "001")
    ws = Workspace.open(workspace)
    feed = WorkspaceFeed(ws, current_cursor(ws))
    assert [e.name for e in feed.poll()] == ["status"]  # the first poll states the status
    assert feed.poll() == []

    commit_experiment(workspace, "002", status="discarded", temperature=0.9)
    control.emit(workspace, "pause")
    ws.append_event("note", {"text": "focus rag"})
    events = feed.poll()
    assert [(e.name, e.data.get("id") or e.data.get("kind")) for e in events] == [
        ("experiment", "002"),
        ("live", "pause"),
        ("event", "note"),
    ]
    control.write_status(
        workspace, LiveStatus(state="waiting_for_approval", pending_request=REQUEST)
    )
    assert [(e.name, e.data["pending_request"]) for e in feed.poll()] == [("status", REQUEST)]
    assert feed.poll() == []


def test_feed_pushes_a_record_at_once_and_again_when_committed(workspace: Path) -> None:
    ws = Workspace.open(workspace)
    feed = WorkspaceFeed(ws, current_cursor(ws), status=status_snapshot(workspace))
    record = ExperimentRecord(id="001", hypothesis="h", status="kept", gates=[gate_result(0.3)])
    write_record(ws, record)  # what the loop does first; the commit and its tag come after
    assert [e.data for e in feed.poll()] == [{"id": "001"}]
    assert feed.poll() == []
    ws.commit_experiment(record)
    assert [e.data for e in feed.poll()] == [{"id": "001"}]
    assert feed.poll() == []


# -- control ---------------------------------------------------------------------------------


def test_control_needs_the_token_and_lands_once(workspace: Path) -> None:
    client = TestClient(create_app(workspace, TOKEN), base_url="http://127.0.0.1:8750")
    assert client.post("/control/pause", json={}).status_code == 403
    wrong = client.post("/control/pause", headers={TOKEN_HEADER: "wrong"}, json={})
    assert wrong.status_code == 403
    assert commands(workspace) == []

    sent = client.post("/control/note", headers={TOKEN_HEADER: TOKEN}, json={"text": "focus rag"})
    assert sent.status_code == 200
    landed = commands(workspace)
    assert [(c.kind, c.text, c.id) for c in landed] == [("note", "focus rag", sent.json()["id"])]

    reboot = client.post("/control/reboot", headers={TOKEN_HEADER: TOKEN}, json={})
    assert reboot.status_code == 404
    assert client.post("/control/note", headers={TOKEN_HEADER: TOKEN}, json={}).status_code == 400
    assert len(commands(workspace)) == 1


def test_an_approval_from_the_page_carries_its_training_budget(workspace: Path) -> None:
    client = TestClient(create_app(workspace, TOKEN), base_url="http://127.0.0.1:8750")
    headers = {TOKEN_HEADER: TOKEN}
    body = {"request": "004", "trainings": 3}
    assert client.post("/control/approve", headers=headers, json=body).status_code == 200
    bad = client.post("/control/approve", headers=headers, json={"trainings": 0})
    assert bad.status_code == 400
    [command] = commands(workspace)
    assert (command.kind, command.request) == ("approve", "004")
    assert command.grant is not None and command.grant.trainings == 3


def test_control_is_refused_without_allow_control(workspace: Path) -> None:
    client = TestClient(create_app(workspace, token=None), base_url="http://localhost:8750")
    for kind in ("note", "pause", "resume", "stop", "approve", "deny"):
        answer = client.post(f"/control/{kind}", headers={TOKEN_HEADER: ""}, json={"text": "x"})
        assert answer.status_code == 403 and "--allow-control" in answer.json()["error"]
    assert commands(workspace) == []
    page = client.get("/").text
    assert 'data-control="off"' in page and 'data-command="pause"' not in page


def test_only_loopback_hosts_count_as_local() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")


def test_a_taken_port_is_one_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(AutoresearchError, match=f"127.0.0.1:{port} .*choose another --port"):
            require_free_port("127.0.0.1", port)


def test_tui_web_serves_this_tui_command(workspace: Path) -> None:
    command = tui_command(workspace, start=True, experiments=3)
    assert command.startswith(sys.executable) and f"tui -C {workspace}" in command
    assert command.endswith("--start --experiments 3")


# -- the live page in Chromium ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def autoresearch(*args: str) -> Iterator[subprocess.Popen]:
    """`autoresearch ARGS` in a subprocess (its stdout piped), interrupted at the end."""
    code = "from orchestrator.cli import main; main()"
    env = os.environ | {"PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def served(workspace: Path) -> Iterator[tuple[Path, str]]:
    """`autoresearch serve --allow-control`; yields the workspace and the URL it printed."""
    commit_experiment(workspace, "001")
    port = free_port()
    with autoresearch("serve", "-C", str(workspace), "--port", str(port), "--allow-control") as p:
        line = p.stdout.readline()  # type: ignore[union-attr]
        match = re.search(rf"http://127\.0\.0\.1:{port}/\?token=\S+", line)
        assert match, f"serve printed no URL with a token: {line!r}"
        wait_for_port(port)
        yield workspace, match.group(0)


def wait_for_port(port: int, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"serve did not listen on port {port}")


CARD = """(() => {
  const card = document.getElementById("exp002");
  return card && {arrived: Number(card.dataset.arrived), same_page: window.samePage === 1,
    text: card.textContent, diff: card.querySelector("details pre")?.textContent || "",
    strip: Array.from(card.querySelectorAll(".strip .o")).map((o) => o.textContent).join(""),
    count: document.getElementById("count").textContent,
    chart_points: document.querySelectorAll("#chart circle").length};
})()"""


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
@pytest.mark.slow  # Chromium
def test_live_page_shows_a_new_experiment_without_reload(
    served: tuple[Path, str], tmp_path: Path, record_property
) -> None:
    root, url = served
    with Chromium(tmp_path / "profile", url) as page:
        page.wait_for("window.liveReady === true && !!document.getElementById('exp001')", 60)
        page.evaluate("window.samePage = 1")

        before = time.time()
        commit_discarded(root, "002")
        recorded = time.time()
        card = page.wait_for(CARD)  # pushed when the record appears, again once committed
        if not card["diff"]:
            card = page.wait_for(f"(() => {{ const c = {CARD}; return c && c.diff && c; }})()")

        assert card["same_page"], "the page reloaded"
        assert (
            "a comment in the agent" in card["text"]
            and "below the screen's threshold" in card["text"]
        )
        assert "+# live" in card["diff"] and card["strip"] == "WTLLTTWLTL"
        assert card["count"] == "2" and card["chart_points"] == 2
        written = Workspace.open(root).record_path("002").stat().st_mtime
        latency = card["arrived"] / 1000 - written  # from the record's write to the card in the DOM
        record_property("event_to_page_seconds", round(latency, 3))
        print(
            f"\nevent-to-page latency: {latency * 1000:.0f} ms from the record's write "
            f"({(card['arrived'] / 1000 - before) * 1000:.0f} ms from the commit's start, "
            f"which took {(recorded - before) * 1000:.0f} ms)"
        )
        assert before <= written and 0 <= latency < 5.0

        control.write_status(
            root, LiveStatus(state="waiting_for_approval", pending_request=REQUEST)
        )
        pending = "!pending.hidden && pending.textContent"  # elements with ids are globals
        assert "req-7" in page.wait_for(pending)
        page.evaluate("document.querySelector('#pending button[data-command=approve]').click()")
        page.wait_for("document.getElementById('control-result').textContent === 'sent approve'")
        assert [(c.kind, c.request) for c in commands(root)] == [("approve", "req-7")]
        page.screenshot(Path(tempfile.gettempdir()) / "autoresearch-live.png")


OPEN_SOCKET = """new Promise((resolve) => {
  const socket = new WebSocket(%s);
  socket.onopen = () => { socket.close(); resolve("open"); };
  socket.onerror = () => resolve("refused");
})"""


def await_value(page: Chromium, expression: str) -> object:
    answer = page.call(
        "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
    )
    return answer["result"].get("value")


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
@pytest.mark.slow  # Chromium
def test_tui_web_runs_the_tui_in_the_browser(workspace: Path, tmp_path: Path) -> None:
    port = free_port()
    with autoresearch("tui", "--web", "-C", str(workspace), "--port", str(port)) as process:
        line = process.stdout.readline()  # type: ignore[union-attr]
        match = re.search(rf"http://localhost:{port}/\?token=(\S+)", line)
        assert match, f"tui --web printed no URL with a token: {line!r}"
        wait_for_port(port)
        ws_url = json.dumps(f"ws://localhost:{port}/ws/{match.group(1)}")
        with Chromium(tmp_path / "profile", match.group(0)) as page:
            # textual-serve marks the page when the app's first output reaches the terminal
            assert page.wait_for("document.body?.classList.contains('-first-byte')", 120)
            page.screenshot(Path(tempfile.gettempdir()) / "autoresearch-tui-web.png")
            assert await_value(page, "fetch('/').then((r) => r.status)") == 403  # no token
            assert await_value(page, OPEN_SOCKET % ws_url) == "open"  # its own origin may
            page.call("Page.navigate", url="data:text/html,<p>another site</p>")
            page.wait_for("document.body?.textContent === 'another site'")
            assert await_value(page, OPEN_SOCKET % ws_url) == "refused"  # a cross-site page
