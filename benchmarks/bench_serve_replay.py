"""What replaying a large event log costs `autoresearch serve`: peak RSS and `GET /` latency.

Writes a workspace whose `.autoresearch/live.jsonl` is `--mib` MiB, starts `autoresearch serve`
on it, opens `--clients` event streams that each ask for everything (`/events?cursor=0.0.0`),
reads them for `--seconds`, and prints the server's resident memory (before the clients, peak
while they read, from /proc) and how long `GET /` took while they were connected.

    python benchmarks/bench_serve_replay.py [--mib 40] [--clients 10] [--seconds 20]
        [--code DIR]   # the autoresearch source to serve with (a git worktree of another commit)
        [--json]

Linux only (it reads /proc/<pid>/status).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_workspace(root: Path, mib: int) -> Path:
    """A workspace (fake models) with a `mib` MiB live log of realistic lines."""
    from runlog.workspace import Workspace

    ws = Workspace.init(root / "ws", model="fake:planner", judge="fake:judge")
    live = ws.root / ".autoresearch" / "live.jsonl"
    live.parent.mkdir(parents=True, exist_ok=True)
    line = (
        json.dumps(
            {
                "kind": "gate_progress",
                "experiment": "007",
                "gate": "dev-10",
                "done": 3,
                "total": 10,
                "stage": "judging",
                "text": "x" * 300,
            }
        )
        + "\n"
    )
    with open(live, "w") as fh:
        for _ in range(mib * 1024 * 1024 // len(line)):
            fh.write(line)
    return ws.root


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    for row in Path(f"/proc/{pid}/status").read_text().splitlines():
        if row.startswith(field + ":"):
            return int(row.split()[1]) / 1024
    return 0.0


def read_stream(url: str, seconds: float, counts: list[int]) -> None:
    """One client: read the event stream for `seconds` (bytes counted into `counts`)."""
    deadline = time.monotonic() + seconds
    try:
        with urllib.request.urlopen(url, timeout=seconds + 30) as answer:
            while time.monotonic() < deadline:
                chunk = answer.read1(64 * 1024)
                if not chunk:
                    break
                counts.append(len(chunk))
    except OSError:
        counts.append(-1)


def measure(workspace: Path, code: Path, clients: int, seconds: float) -> dict[str, float]:
    port = free_port()
    env = os.environ | {"PYTHONPATH": str(code), "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from orchestrator.cli import main; main()",
            "serve",
            "-C",
            str(workspace),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=code,
    )
    try:
        server.stdout.readline()  # type: ignore[union-attr]
        base = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                urllib.request.urlopen(base + "/", timeout=30).read()
                break
            except OSError:
                time.sleep(0.1)
        idle = rss_mib(server.pid)
        counts: list[int] = []
        threads = [
            threading.Thread(
                target=read_stream,
                args=(f"{base}/events?cursor=0.0.0", seconds, counts),
                daemon=True,
            )
            for _ in range(clients)
        ]
        for thread in threads:
            thread.start()
        peak, page_seconds = idle, None
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            peak = max(peak, rss_mib(server.pid))
            if page_seconds is None and time.monotonic() > deadline - seconds / 2:
                started = time.monotonic()
                urllib.request.urlopen(base + "/", timeout=120).read()
                page_seconds = time.monotonic() - started
            time.sleep(0.1)
        peak = max(peak, rss_mib(server.pid, "VmHWM"))
        for thread in threads:
            thread.join(timeout=5)
        return {
            "idle_rss_mib": round(idle, 1),
            "peak_rss_mib": round(peak, 1),
            "page_seconds": round(page_seconds or 0.0, 3),
            "streamed_mib": round(sum(c for c in counts if c > 0) / 2**20, 1),
        }
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=40)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--code", type=Path, default=REPO)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        workspace = make_workspace(Path(tmp), args.mib)
        result = measure(workspace, args.code.resolve(), args.clients, args.seconds)
    result.update(mib=args.mib, clients=args.clients, code=str(args.code))
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{args.clients} replay clients on a {args.mib} MiB live log ({args.code}): "
            f"RSS {result['idle_rss_mib']} MiB idle, {result['peak_rss_mib']} MiB peak; "
            f"GET / {result['page_seconds']} s; streamed {result['streamed_mib']} MiB"
        )


if __name__ == "__main__":
    main()
