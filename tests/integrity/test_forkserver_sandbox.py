"""A worker forked from the fork server is as confined as a spawned one: the same attacks
(reading the gold, the API key, another process's environment, the server's socket, asking the
server for an unsandboxed fork) fail in the child; the gold is read with the sandbox switched
off (issue 26, faster gates)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from levers.forkserver import FORKSERVER_ENV, close_servers
from levers.pipeline import close_pipelines, warm_worker
from tests.integrity.conftest import cheat_lever, evaluate, install
from tests.runlog.conftest import ParseJudge

KEY = "sk-ant-secret-forked-123"
PROBE = """
    def finalize(self, ctx):
        import json
        import os
        import socket
        from ruler.loader import DATA_DIR

        cases = DATA_DIR / "planner" / "cases.jsonl"
        found = {}

        def attempt(name, read):
            try:
                found[name] = str(read())
            except Exception as exc:  # what the sandbox answers
                found[name] = "denied: " + type(exc).__name__

        attempt("gold", lambda: open(cases).read(200))
        attempt("gold via /proc/self/root", lambda: open("/proc/self/root" + str(cases)).read(200))
        attempt("key", lambda: os.environ.get("ANTHROPIC_API_KEY", "absent"))
        attempt("names", lambda: " ".join(sorted(os.environ)))
        attempt("environ", lambda: open("/proc/self/environ", "rb").read().decode("latin-1"))
        attempt("server environ", lambda: open(f"/proc/{os.getppid()}/environ", "rb").read()
                .decode("latin-1"))
        attempt("fds", lambda: len(os.listdir("/proc/self/fd")))

        def accept_another_agent():
            for fd in range(3, 64):
                try:
                    sock = socket.socket(fileno=os.dup(fd))
                except OSError:
                    continue
                if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
                    return "listening socket at fd %d" % fd
            return "none"

        attempt("server socket", accept_another_agent)

        def ask_for_an_unsandboxed_fork():
            argv = open("/proc/self/cmdline", "rb").read().split(b"\\0")
            path = next(a.decode() for a in argv if a.endswith(b".sock"))
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(path)  # Landlock does not cover a pathname socket
            request = {"op": "fork", "env": {"AUTORESEARCH_SANDBOX": "unsandboxed"}, "cwd": "/"}
            try:  # the server may have refused and closed before the request is sent
                sock.sendall((json.dumps(request) + "\\n").encode())
            except BrokenPipeError:
                pass
            return sock.makefile().readline()

        attempt("fork request", ask_for_an_unsandboxed_fork)
        ctx.draft = json.dumps(found)
"""


@pytest.fixture(autouse=True)
def forked(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Forked workers (the fake model too), with a key in this process's environment from
    before the server starts."""
    monkeypatch.setenv(FORKSERVER_ENV, "always")
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    close_pipelines()
    close_servers()
    yield
    close_pipelines()
    close_servers()


def probe(ws) -> dict[str, str]:
    install(ws, cheat_lever(PROBE))
    run = evaluate(ws, ParseJudge())
    worker = warm_worker()
    assert worker is not None and worker.forked  # the gate ran in a forked child
    assert not run.runs[0].failed, run.runs[0].error
    return json.loads(run.runs[0].text)


def test_a_forked_child_cannot_read_the_gold_the_key_or_the_server(ws) -> None:
    found = probe(ws)
    assert found["gold"].startswith("denied: PermissionError")
    assert found["gold via /proc/self/root"].startswith("denied")
    assert found["key"] == "absent" and KEY not in found["environ"]
    assert "AUTORESEARCH_SANDBOX" in found["names"].split()  # the environment drawn for it
    assert found["server environ"].startswith("denied")
    assert found["server socket"] == "none"  # it cannot accept another agent's connection
    # it finds the server (its command line names the socket) but is refused a fork of its own
    assert "only the process that started this server" in found["fork request"]


def test_with_the_sandbox_off_the_probe_reads_the_gold_but_never_the_key(ws, unsandboxed):
    found = probe(ws)
    assert '"task"' in found["gold"]  # the attack works with the protection off
    assert found["key"] == "absent" and KEY not in found["environ"]
    assert KEY not in found["server environ"]  # the server never held the key either
    assert found["server socket"] == "none"
    assert "only the process that started this server" in found["fork request"]


def test_the_socket_probe_finds_a_listening_socket() -> None:
    """The probe's way of finding the server's socket works where there is one (a control)."""
    import socket

    scope: dict = {}
    body = PROBE.split("def accept_another_agent():")[1].split('attempt("server socket"')[0]
    code = "def accept_another_agent():" + body.replace("\n        ", "\n")
    exec("import os, socket\n" + code, scope)  # noqa: S102 (the probe's own text)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind("\0autoresearch-probe-control")
        listener.listen(1)
        assert scope["accept_another_agent"]().startswith("listening socket at fd")
