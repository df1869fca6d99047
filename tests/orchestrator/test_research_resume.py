"""`autoresearch run` killed with SIGKILL mid-research resumes the research turn at the step it
was in: the calls it already paid for are not sent again (counted at a loopback mock API that
the subprocess reaches through ANTHROPIC_BASE_URL, the SDK's own setting)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from runlog.workspace import Workspace
from tests.orchestrator.research_mock import reply, submit, tool_use
from tests.orchestrator.test_resume import CLI, cli

pytestmark = pytest.mark.slow  # the real CLI in a subprocess, killed with SIGKILL mid-call

FEW_SHOT = {"levers": [{"name": "prompt", "params": {"few_shot": 1}}]}
KILL_AT = 2  # kill while the call after two tool rounds of the second turn is in flight


def answer(body: dict) -> dict:
    """The scripted reply, from the conversation so far (stateless, so a resume can ask again)."""
    done = sum(1 for m in body["messages"] if m["role"] == "assistant")
    script = [
        reply(tool_use("results")),
        reply(tool_use("experiment", id="001")),
        reply(tool_use("notes")),
        reply(submit("One worked example helps", FEW_SHOT, predicted_delta=0.02)),
    ]
    return script[done]


class MockAPI(ThreadingHTTPServer):
    """A Messages API on 127.0.0.1 that records bodies and holds the KILL_AT call once."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.bodies: list[dict] = []
        self.holding = threading.Event()
        self.release = threading.Event()
        self.held = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: MockAPI

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        self.server.bodies.append(body)
        turns = sum(1 for m in body["messages"] if m["role"] == "assistant")
        if turns == KILL_AT and not self.server.held:
            self.server.held = True
            self.server.holding.set()
            self.server.release.wait(timeout=60)  # the loop is killed meanwhile
            return
        data = json.dumps(answer(body)).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def api():
    server = MockAPI()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


def test_a_research_turn_killed_mid_call_resumes_without_resending_paid_calls(
    tmp_path: Path, api: MockAPI, monkeypatch
):
    monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-api03-TESTKEY0123456789abcdef")
    ws = tmp_path / "ws"
    args = ["--model", "fake:planner", "--judge", "fake:judge"]
    done = cli("init", str(ws), *args, "--researcher", "anthropic:claude-sonnet-4-6")
    assert done.returncode == 0, done.stderr
    proc = subprocess.Popen(
        [*CLI, "run", "-C", str(ws), "--experiments", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=os.environ,
    )
    try:
        deadline = time.time() + 240
        while not api.holding.wait(timeout=0.5) and proc.poll() is None:
            assert time.time() < deadline, "the loop never reached the held call"
        assert api.holding.is_set(), f"the loop ended early: {proc.stderr.read().decode()[-500:]}"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        _, err = proc.communicate(timeout=30)
        api.release.set()
    assert proc.returncode == -signal.SIGKILL, err
    before = len(api.bodies)
    assert before == 3  # three calls of the second turn (the first experiment: the stock agent)
    assert Workspace.open(ws).record_ids() == ["001"]

    done = cli("run", "-C", str(ws), "--experiments", "1")
    assert done.returncode == 0, done.stderr
    after = api.bodies[before:]
    # the resumed turn asks the held call again (its messages unchanged) and then submits:
    # the two calls it had paid for before the kill are not sent again
    assert len(after) == 2
    assert after[0]["messages"] == api.bodies[before - 1]["messages"]
    record = Workspace.open(ws).record("002")
    assert record.hypothesis == "One worked example helps"
    assert record.predicted_delta == 0.02
    print(f"requests before the kill {before}, after the resume {len(after)}")
