"""Pipeline workers forked from a server that holds the loaded model (`levers.zygote`).

Starting a pipeline worker costs a Python start, the torch and transformers imports and loading
the weights: seconds per process, paid again for every agent with lever files of its own. A
fork server pays it once per model: `fork_worker` asks it for a child, which applies exactly the
sandbox and environment a spawned worker would (the policy `sandboxed_command` drew for it),
imports that agent's levers and serves no other agent. The child answers the worker protocol
over a unix socket; `ForkedProcess` gives `levers.pipeline.PipelineWorker` the same handle a
`subprocess.Popen` does (stdin, stdout, poll, wait, kill), so nothing else changes.

The server is used on Linux for `local:` models when the sandbox applies in-process (Landlock,
or none with `--unsandboxed`); bubblewrap and sandbox-exec wrap a new process from outside, so
there, on macOS, without fork, or with `AUTORESEARCH_FORKSERVER=off`, workers are spawned as
before. A server that cannot start, dies, or fails to fork falls back to spawning, with the
same results. `AUTORESEARCH_FORKSERVER=always` also forks for `fake:` models (tests).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from levers.sandbox import OFF, Sandboxed, child_env, default_home, scrubbed_env
from levers.scratch import owned_folder, pid_exists
from models.registry import parse_spec

FORKSERVER_ENV = "AUTORESEARCH_FORKSERVER"  # "off": spawn; "always": fork for fake models too
START_TIMEOUT = float(os.environ.get("AUTORESEARCH_FORKSERVER_START_TIMEOUT", 600))
FORK_TIMEOUT = 60.0  # a fork's first line (the child's pid)
IN_PROCESS_SANDBOXES = ("landlock", OFF)  # applied by the child itself, so a fork can apply it


class ForkServerError(RuntimeError):
    """The fork server could not start, or could not fork a child."""


def wanted(model: str, sandbox: str) -> bool:
    """Whether a worker for `model`, sandboxed by `sandbox`, is forked (else spawned)."""
    mode = os.environ.get(FORKSERVER_ENV, "auto")
    if mode == "off" or not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    if sandbox not in IN_PROCESS_SANDBOXES:
        return False
    try:
        backend = parse_spec(model)[0]
    except Exception:  # noqa: BLE001 (a bad spec fails in the worker, with its message)
        return False
    return backend == "local" or (backend == "fake" and mode == "always")


def server_env(folder: Path) -> dict[str, str]:
    """The server's environment: the allow-list a worker gets (no key, no token), its own
    folder as home; each child replaces it with the environment drawn for it."""
    return {
        **scrubbed_env(child_env()),
        "AUTORESEARCH_HOME": str(os.environ.get("AUTORESEARCH_HOME") or default_home()),
        "HOME": str(folder),
        "TMPDIR": str(folder),
        "PYTHONDONTWRITEBYTECODE": "1",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }


class _SocketFile:
    """One direction of a child's connection as a text file; closing the writing side shuts the
    socket for writing, so the child reads end-of-file as a worker reads a closed stdin."""

    def __init__(self, sock: socket.socket, mode: str) -> None:
        self.sock = sock
        self.file = sock.makefile(mode, encoding="utf-8")
        self.writing = mode == "w"

    @property
    def closed(self) -> bool:
        return self.file.closed

    def write(self, text: str) -> int:
        return self.file.write(text)

    def flush(self) -> None:
        self.file.flush()

    def readline(self) -> str:
        try:
            return self.file.readline()
        except OSError:
            return ""  # reset by a dying child: end of file

    def close(self) -> None:
        if self.file.closed:
            return
        try:
            self.file.close()
            if self.writing:
                self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class ForkedProcess:
    """A forked pipeline child, as much of `subprocess.Popen` as `PipelineWorker` uses."""

    def __init__(self, server: ForkServer, sock: socket.socket, pid: int) -> None:
        self.server = server
        self.sock = sock
        self.pid = pid
        self.returncode: int | None = None
        self.stdin = _SocketFile(sock, "w")
        self.stdout = _SocketFile(sock, "r")

    def poll(self) -> int | None:
        if self.returncode is None:
            self._update(0.0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        remaining = timeout
        while self.returncode is None:
            step = 30.0 if remaining is None else min(remaining, 30.0)
            self._update(step)
            if remaining is not None:
                remaining -= step
                if self.returncode is None and remaining <= 0:
                    raise subprocess.TimeoutExpired(f"forked worker {self.pid}", timeout or 0)
        if self.stdout.closed and self.stdin.closed:
            self.sock.close()
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)

    def _update(self, wait: float) -> None:
        try:
            status = self.server.status(self.pid, wait)
        except ForkServerError:  # the server died, and took its children's codes with it
            status = {"running": pid_exists(self.pid), "code": None}
        if not status.get("running"):
            code = status.get("code")
            self.returncode = int(code) if code is not None else -signal.SIGKILL


def end_process(process: subprocess.Popen) -> None:
    """Close a worker process's stdin (its signal to exit), wait 5 s, then kill it."""
    if process.stdin and not process.stdin.closed:
        process.stdin.close()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout:
        process.stdout.close()


class ForkServer:
    """One `levers.zygote` process holding `spec` loaded; `fork` asks it for a child."""

    def __init__(self, spec: str) -> None:
        self.spec = spec
        self.import_path = import_path()  # its children import from here: fixed at its start
        self.folder = owned_folder("forkserver")  # 0700
        self.path = str(self.folder / "server.sock")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "levers.zygote", spec, self.path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=server_env(self.folder),
            cwd=self.folder,
        )
        try:
            self.ready = self._read_ready()
        except ForkServerError:
            self.close()
            raise
        self.weights = str(self.ready.get("weights", ""))

    def _read_ready(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        found, _, _ = select.select([self.process.stdout], [], [], START_TIMEOUT)
        line = self.process.stdout.readline() if found else b""
        try:
            ready = json.loads(line) if line.strip() else {}
        except ValueError:
            ready = {}
        if not ready.get("ready"):
            self.process.kill()
            raise ForkServerError(
                f"the fork server for {self.spec} did not start (exit {self.process.wait()})"
            )
        return ready

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def _connect(self, request: dict[str, Any], timeout: float) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(self.path)
            sock.sendall((json.dumps(request) + "\n").encode())
        except OSError as exc:
            sock.close()
            raise ForkServerError(
                f"the fork server for {self.spec} is not answering: {exc}"
            ) from None
        return sock

    def fork(self, sandboxed: Sandboxed) -> ForkedProcess:
        """A child in `sandboxed`'s environment, folder and policy (it applies the policy)."""
        request = {"op": "fork", "env": sandboxed.env, "cwd": str(sandboxed.scratch)}
        sock = self._connect(request, FORK_TIMEOUT)
        try:
            first = _read_line(sock)
            pid = int(json.loads(first)["pid"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            sock.close()
            raise ForkServerError(f"the fork server for {self.spec} did not fork: {exc}") from None
        sock.settimeout(None)
        return ForkedProcess(self, sock, pid)

    def status(self, pid: int, wait: float) -> dict[str, Any]:
        sock = self._connect({"op": "status", "pid": pid, "wait": wait}, wait + 10)
        try:
            return json.loads(_read_line(sock))
        except (OSError, ValueError) as exc:
            raise ForkServerError(
                f"the fork server for {self.spec} did not answer: {exc}"
            ) from None
        finally:
            sock.close()

    def close(self) -> None:
        end_process(self.process)
        shutil.rmtree(self.folder, ignore_errors=True)


def _read_line(sock: socket.socket) -> str:
    """One line, read byte by byte so that nothing after it is taken from the socket."""
    data = bytearray()
    while not data.endswith(b"\n"):
        chunk = sock.recv(1)
        if not chunk:
            break
        data += chunk
    return data.decode()


def import_path() -> str:
    """The user's PYTHONPATH, which a worker's imports follow."""
    return os.environ.get("PYTHONPATH", "")


_servers: dict[str, ForkServer] = {}
_failed: set[str] = set()  # specs whose server would not start here: spawn from then on
_lock = threading.Lock()


def server_for(spec: str) -> ForkServer | None:
    """The running server of `spec` (started, or restarted when it died, the weights changed
    since it loaded them, or the user's import path did: a lever package installed there since
    would be missing from its children); None when it cannot start."""
    from levers.sources import weights_id

    with _lock:
        server = _servers.get(spec)
        stale = server is not None and (
            server.weights != weights_id(spec) or server.import_path != import_path()
        )
        if server is not None and (not server.alive or stale):
            del _servers[spec]
            server.close()
            server = None
        if server is None and spec not in _failed:
            try:
                server = _servers[spec] = ForkServer(spec)
            except (ForkServerError, OSError) as exc:
                _failed.add(spec)
                print(f"autoresearch: {exc}; lever workers are spawned", file=sys.stderr)
        return server


def fork_worker(sandboxed: Sandboxed, model: str) -> ForkedProcess | None:
    """A forked worker for `model` in `sandboxed`, or None: spawn it (see `wanted`)."""
    if not wanted(model, sandboxed.kind):
        return None
    server = server_for(model)
    if server is None:
        return None
    try:
        return server.fork(sandboxed)
    except ForkServerError as exc:
        print(f"autoresearch: {exc}; this worker is spawned", file=sys.stderr)
        with _lock:
            if _servers.get(model) is server:
                del _servers[model]
        server.close()
        return None


def close_servers() -> None:
    """Stop every fork server (at exit; their children end when their gates close them)."""
    with _lock:
        while _servers:
            _servers.popitem()[1].close()
        _failed.clear()


atexit.register(close_servers)
