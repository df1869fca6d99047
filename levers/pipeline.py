"""The judging side's handle on the lever pipeline process (`levers.worker`).

A `PipelineWorker` is one `python -m levers.worker` child speaking JSON lines. `pipeline_for`
keeps one warm worker per process and reuses it for the same agent (same config, agent folder,
workspace) whose loaded lever code is unchanged on disk, so the gates of one experiment share a
loaded model. A worker that has only ever run installed code (agents with no lever files of
their own, see `runs_installed_code_only`) is also re-prepared for the next such agent, so
the model stays loaded from one experiment to the next; a worker that loaded an agent's lever
files never serves another agent, so one experiment's lever code never runs in the next one's
process.
This module imports no lever: it only starts processes and reads JSON.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from models.base import AutoresearchError


class PipelineError(AutoresearchError):
    """The lever pipeline process failed, or broke the boundary between it and the judge."""


def child_env() -> dict[str, str]:
    """The parent's environment with its import path, so the child loads the same code."""
    env = dict(os.environ)
    given = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    paths = [*given, *(p for p in sys.path if p and Path(p).exists())]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


class PipelineWorker:
    """One pipeline process; requests are answered one at a time."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "levers.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=child_env(),
            text=True,
            encoding="utf-8",
        )
        self.lock = threading.Lock()
        self.users = 0  # gates holding this worker (see pipeline_for / release)
        self.prepared: dict[str, Any] = {}
        self.installed_only = True  # no agent's own lever files were ever loaded here

    @property
    def sources(self) -> dict[str, str]:
        return self.prepared.get("sources", {})

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def request(
        self, op: str, on_progress: Callable[[int, int], None] | None = None, **payload: Any
    ) -> dict[str, Any]:
        """Send one request; progress lines go to `on_progress`; returns the checked reply."""
        assert self.process.stdin is not None and self.process.stdout is not None
        with self.lock:
            try:
                self.process.stdin.write(json.dumps({"op": op, **payload}) + "\n")
                self.process.stdin.flush()
            except (BrokenPipeError, OSError):
                raise self.died() from None
            while True:
                line = self.process.stdout.readline()
                if not line:
                    raise self.died()
                message = json.loads(line)
                if not isinstance(message, dict):
                    raise PipelineError("the lever pipeline sent something that is not a reply")
                if "progress" in message and on_progress is not None:
                    done, total = message["progress"]
                    on_progress(int(done), int(total))
                if "reply" in message:
                    return self.check(message["reply"])

    def check(self, reply: Any) -> dict[str, Any]:
        if not isinstance(reply, dict):
            raise PipelineError("the lever pipeline sent a reply that is not an object")
        if tamper := reply.get("tamper"):
            raise PipelineError(
                "lever code rebound the judge's code in the pipeline process "
                f"({', '.join(map(str, tamper))}); the judge runs elsewhere, so it changed "
                "nothing, but the experiment is not trusted"
            )
        if "error" in reply:
            raise PipelineError(str(reply["error"]))
        return reply

    def died(self) -> PipelineError:
        code = self.process.wait(timeout=10)
        return PipelineError(f"the lever pipeline process exited (code {code})")

    def close(self) -> None:
        if self.process.stdin and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()


_workers: dict[str, PipelineWorker] = {}
_lock = threading.Lock()


def sources_unchanged(sources: dict[str, str]) -> bool:
    """Every file the worker loaded still has the content it had (hashed here, not imported)."""
    for path, digest in sources.items():
        try:
            if hashlib.sha256(Path(path).read_bytes()).hexdigest() != digest:
                return False
        except OSError:
            return False
    return True


def agent_key(config: dict[str, Any], agent_dir: Path | None, workspace: Path | None) -> str:
    payload = json.dumps([config, str(agent_dir or ""), str(workspace or "")], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def runs_installed_code_only(agent_dir: Path | None) -> bool:
    """The agent has no lever files of its own: everything it runs is installed code."""
    return agent_dir is None or not any((agent_dir / "levers").glob("*.py"))


def _reusable(key: str, installed_only: bool) -> tuple[PipelineWorker | None, bool]:
    """The warm worker of this agent when it is alive and its code unchanged (True: prepared);
    else, for an agent that runs installed code only, an idle worker that never ran anything
    else (False: to prepare for this agent); else none. Other idle workers are closed. Caller
    holds `_lock`."""
    worker = _workers.get(key)
    if worker is not None and worker.alive and sources_unchanged(worker.sources):
        worker.users += 1
        return worker, True
    spare = None
    for other, idle in list(_workers.items()):
        if idle.users and idle.alive:
            continue
        del _workers[other]
        fit = installed_only and idle.installed_only and idle.alive
        if spare is None and fit and sources_unchanged(idle.sources):
            spare = idle
            continue
        idle.close()
    if spare is not None:
        spare.users = 1
        _workers[key] = spare
    return spare, False


def pipeline_for(
    config: dict[str, Any], agent_dir: Path | None, workspace: Path | None
) -> PipelineWorker:
    """A prepared worker for this agent: the warm one when it ran this very agent and its code
    is unchanged (or, for an agent of installed code only, one that only ever ran such agents),
    else a fresh process. Give it back with `release` when the gate is done."""
    key = agent_key(config, agent_dir, workspace)
    installed_only = runs_installed_code_only(agent_dir)
    with _lock:
        worker, prepared = _reusable(key, installed_only)
    if prepared:
        return worker  # type: ignore[return-value]
    if worker is not None:
        try:
            return _prepare(worker, config, agent_dir, workspace)
        except PipelineError:  # e.g. a lever package installed since it started: start afresh
            pass
    worker = PipelineWorker()
    worker.users = 1
    worker.installed_only = installed_only
    with _lock:
        if key not in _workers:  # another gate may hold this agent's worker: this one is spare
            _workers[key] = worker
    return _prepare(worker, config, agent_dir, workspace)


def _prepare(
    worker: PipelineWorker,
    config: dict[str, Any],
    agent_dir: Path | None,
    workspace: Path | None,
) -> PipelineWorker:
    try:
        worker.prepared = worker.request(
            "prepare",
            config=config,
            agent_dir=str(agent_dir) if agent_dir else None,
            workspace=str(workspace) if workspace else None,
        )
    except PipelineError:
        discard(worker)
        raise
    return worker


def release(worker: PipelineWorker) -> None:
    """The gate is done with `worker`; it stays warm if it is the one kept for its agent."""
    with _lock:
        worker.users -= 1
        kept = worker in _workers.values()
    if not kept and worker.users == 0:
        worker.close()


def discard(worker: PipelineWorker) -> None:
    """Close a worker that failed or broke the boundary; it is never reused."""
    with _lock:
        for key, known in list(_workers.items()):
            if known is worker:
                del _workers[key]
    worker.close()


def warm_worker() -> PipelineWorker | None:
    """A worker kept between gates, if one is running."""
    with _lock:
        return next((w for w in _workers.values() if w.alive), None)


def close_pipelines() -> None:
    """Close every warm worker (at exit, or to start the next evaluation cold)."""
    with _lock:
        while _workers:
            _workers.popitem()[1].close()


def describe_levers(levers_dir: Path | None) -> dict[str, dict[str, Any]]:
    """Name → class, summary and params schema of every lever, with a folder's lever files,
    read in a short-lived pipeline process (so no lever file is imported here)."""
    worker = PipelineWorker()
    try:
        reply = worker.request("describe", levers_dir=str(levers_dir) if levers_dir else None)
    finally:
        worker.close()
    return reply["levers"]


atexit.register(close_pipelines)
