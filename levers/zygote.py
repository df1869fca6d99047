"""The fork server's own process: `python -m levers.zygote SPEC SOCKET`, started by
`levers.forkserver`.

It loads the candidate model once (the same folder a pipeline worker would load it from) and
imports no lever code: no built-in lever module, no entry point, no workspace file. Each gate's
pipeline is a child forked from it: the child takes the environment the parent drew for it
(scrubbed, with its sandbox policy), applies the sandbox (`levers.sandbox.enter`), and only then
runs `levers.worker.serve`, which imports that agent's levers; it serves that agent alone, over
its own connection, with the worker's message protocol.

Fork safety: a child forked after torch started its OpenMP pool deadlocks at its first parallel
op (measured here: torch 2.13, libgomp). So this process sets torch to one thread before it
loads the weights, runs no inference, and each child sets the thread count back.

Only the process that started the server is served (its peer pid, checked on every
connection): a child can find the socket (its own command line names it, and Landlock does not
cover connecting to a pathname socket), but a fork it asked for, with a policy of its choosing,
would be an escape from its sandbox.

Protocol: one request line per connection to SOCKET. `{"op": "fork", "env": {...}, "cwd": DIR}`
forks a child that answers first `{"pid": N}`, then speaks the worker protocol on that
connection. `{"op": "status", "pid": N, "wait": S}` answers `{"running": R, "code": C}`: the
child's exit code (negative: killed by that signal) once it exited. The server exits when its
stdin closes (its parent is gone).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import random
import selectors
import signal
import socket
import struct
import sys
import tempfile
import time
from typing import Any

# trusted framework code children need (imported once here, not per child); no lever module
FRAMEWORK_MODULES = (
    "levers.worker",
    "levers.config",
    "levers.runner",
    "levers.registry",
    "levers.sources",
    "levers.sandbox",
)
EXITED_KEPT = 256  # exit codes of reaped children remembered for `status`


def load_model(spec: str) -> tuple[Any, int]:
    """The model for `spec`, loaded, without the plugin manager (which would load entry points,
    i.e. third-party lever code); returns it and the thread count children get back."""
    from models.registry import keep_loaded

    backend, _, name = spec.partition(":")
    threads = 0
    if backend == "local":
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # nothing here starts the OpenMP pool (see the docstring)
        from models.backends.local import LocalModel

        model: Any = LocalModel(name)
        model.load()
    elif backend == "fake":
        from models.backends.fake import FakeModel

        model = FakeModel(name)
    else:
        raise SystemExit(f"levers.zygote: no fork server for {spec!r} (local and fake only)")
    keep_loaded(spec, model)
    return model, threads


def lever_modules() -> list[str]:
    """Lever modules loaded in this process (must stay empty: children import their own)."""
    return sorted(
        name
        for name in sys.modules
        if name.startswith(("levers.builtin", "workspace:", "autoresearch_lever"))
    )


class Server:
    """Accepts connections; forks a child per `fork`; reaps children and remembers their codes."""

    def __init__(self, listener: socket.socket, threads: int) -> None:
        self.listener = listener
        self.threads = threads
        self.exited: dict[int, int] = {}
        self.running: set[int] = set()
        self.selector = selectors.DefaultSelector()
        self.parent = os.getppid()  # the one process whose requests are served

    def reap(self) -> None:
        while self.running:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.running.clear()
                return
            if pid == 0:
                return
            self.running.discard(pid)
            self.exited[pid] = os.waitstatus_to_exitcode(status)
            while len(self.exited) > EXITED_KEPT:
                self.exited.pop(next(iter(self.exited)))

    def status(self, pid: int, wait: float) -> dict[str, Any]:
        """Whether child `pid` still runs, waiting up to `wait` seconds for it to exit; its exit
        code once it has (None for a pid this server does not know)."""
        deadline = time.monotonic() + max(0.0, wait)
        while True:
            self.reap()
            if pid not in self.running:
                return {"running": False, "code": self.exited.get(pid)}
            if time.monotonic() >= deadline:
                return {"running": True, "code": None}
            time.sleep(0.02)

    def handle(self, conn: socket.socket) -> None:
        if peer_pid(conn) != self.parent:  # lever code that found the socket: refused
            with_reply(conn, {"error": "only the process that started this server may ask it"})
            conn.close()
            return
        conn.settimeout(10)
        try:
            line = conn.makefile("r", encoding="utf-8").readline()
            request = json.loads(line) if line.strip() else {}
        except (OSError, ValueError):
            conn.close()
            return
        conn.settimeout(None)
        if request.get("op") == "fork":
            pid = os.fork()
            if pid == 0:
                child(conn, [self.listener, self.selector], request, self.threads)
            self.running.add(pid)
        elif request.get("op") == "status":
            wait = min(float(request.get("wait", 0)), 30.0)
            with_reply(conn, self.status(int(request.get("pid", 0)), wait))
        else:
            with_reply(conn, {"error": f"unknown op {request.get('op')!r}"})
        conn.close()

    def serve(self, stdin: Any) -> None:
        self.selector.register(self.listener, selectors.EVENT_READ, "accept")
        self.selector.register(stdin, selectors.EVENT_READ, "parent")
        while True:
            for key, _ in self.selector.select(timeout=1.0):
                if key.data == "parent" and not os.read(stdin.fileno(), 4096):
                    return  # the parent is gone
                if key.data == "accept":
                    conn, _ = self.listener.accept()
                    self.handle(conn)
            self.reap()


def peer_pid(conn: socket.socket) -> int:
    """The pid of the process at the other end of `conn` (the kernel's word, SO_PEERCRED)."""
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[0]


def with_reply(conn: socket.socket, message: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):
        conn.sendall((json.dumps(message) + "\n").encode())


def child(conn: socket.socket, server_files: list[Any], request: dict[str, Any], threads: int):
    """The forked child: its own environment and folder, the sandbox, then the worker loop on
    `conn`. It never returns into the server's loop."""
    code = 1
    try:
        for held in server_files:  # it must not accept another agent's connection
            held.close()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)  # not the server's pipe from its parent
        os.close(null)
        os.dup2(2, 1)  # a lever's print() goes to stderr, never into the channel
        sys.stdout = sys.stderr
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in request["env"].items()})
        os.chdir(request["cwd"])
        tempfile.tempdir = None  # TMPDIR is this child's scratch folder now
        random.seed()  # not the server's (and every sibling's) random state
        if threads:
            import torch

            torch.set_num_threads(threads)
        requests = conn.makefile("r", encoding="utf-8")
        out = conn.makefile("w", encoding="utf-8")
        out.write(json.dumps({"pid": os.getpid()}) + "\n")
        out.flush()
        from levers.sandbox import enter
        from levers.worker import serve

        sandbox = enter()  # before any lever module is imported
        serve(requests, out, sandbox)
        code = 0
    except BaseException:  # noqa: BLE001 (the child reports on stderr and exits, always)
        import traceback

        traceback.print_exc()
    finally:
        sys.stderr.flush()
        os._exit(code)


def main(argv: list[str]) -> int:
    spec, path = argv[0], argv[1]
    from levers.worker import JUDGE_MODULES

    for name in JUDGE_MODULES:  # as a worker does, before a child's snapshot
        importlib.import_module(name)
    for name in FRAMEWORK_MODULES:
        importlib.import_module(name)
    from levers.sources import weights_id

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles ^C; its exit closes stdin
    _, threads = load_model(spec)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    ready = {
        "ready": True,
        "pid": os.getpid(),
        "spec": spec,
        "weights": weights_id(spec),
        "threads": len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self") else 0,
        "lever_modules": lever_modules(),
    }
    sys.stdout.write(json.dumps(ready) + "\n")
    sys.stdout.flush()
    Server(listener, threads).serve(sys.stdin)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
