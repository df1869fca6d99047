"""The judging side's handle on the lever pipeline process (`levers.worker`).

A `PipelineWorker` is one `python -m levers.worker` child speaking JSON lines. `pipeline_for`
keeps one warm worker per process and reuses it for the same agent (same config, agent folder,
workspace) whose loaded lever code is unchanged on disk, so the gates of one experiment share a
loaded model. A worker that has only ever run installed code (agents with no lever files of
their own, see `runs_installed_code_only`) is also re-prepared for the next such agent, so
the model stays loaded from one experiment to the next; a worker that loaded an agent's lever
files never serves another agent, so one experiment's lever code never runs in the next one's
process. Where it can, a worker is forked from a server that holds the model loaded
(`levers.forkserver`): then every agent gets a fresh child, which is never re-prepared for
another agent, and no agent waits for the model to load.
Every worker starts inside the OS sandbox (`levers.sandbox`) with a scrubbed environment; a
model that needs a key, or that a test placed in this process, is served from here over the
pipe (`remote_specs`). This module imports no lever: it only starts processes and reads JSON.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from levers.adapters import adapter_store
from levers.feature import FeatureSpec
from levers.forkserver import ForkedProcess, end_process, fork_worker
from levers.sandbox import SandboxError, child_env, sandboxed_command
from models.base import AutoresearchError, GenerationOptions, Message
from models.registry import get_model, injected_models, parse_spec

# backends whose models hold a secret (an API key): served from the parent, never the sandbox
SECRET_BACKENDS = ("anthropic",)


class PipelineError(AutoresearchError):
    """The lever pipeline process failed, or broke the boundary between it and the judge."""


def remote_specs(config: dict[str, Any]) -> list[str]:
    """The models this process serves to the worker: the agent's when it needs a key, and any
    placed here with `use_model`."""
    specs = set(injected_models())
    model = str(config.get("model") or "")
    if model and parse_spec(model)[0] in SECRET_BACKENDS:
        specs.add(model)
    return sorted(specs)


def third_party_code(agent_dir: Path | None) -> bool:
    """Whether lever code that does not ship with autoresearch may run: the agent's own lever
    files, or an installed lever package (entry points)."""
    from importlib.metadata import entry_points

    if not runs_installed_code_only(agent_dir):
        return True
    if getattr(sys, "_called_from_test", False):
        return False  # tests load no entry points (models.plugins)
    return any(True for _ in entry_points(group="autoresearch"))


def feature_rulers(feature: FeatureSpec | None) -> list[Path]:
    """The ruler folder of a feature's pool when it lies outside the shipped rulers (an imported
    feature): the sandbox hides that folder and opens only its pool."""
    if feature is None or not feature.pool:
        return []
    return [Path(feature.pool).resolve().parent.parent]


def feature_payload(feature: FeatureSpec | None) -> dict[str, Any] | None:
    """The `feature` field of a `prepare` request (None: the planner)."""
    return feature.model_dump(mode="json") if feature is not None else None


def prepare_weights(config: dict[str, Any]) -> list[Path]:
    """Make the candidate's weight files ready here (a GGUF is converted once, which writes),
    so the sandboxed worker only reads them; returns extra folders it must read."""
    model = str(config.get("model") or "")
    if model.startswith("ct2:"):
        from models.backends.ct2 import prepare_weights as prepare_ct2

        return prepare_ct2(model.removeprefix("ct2:"))
    if not model.startswith("local:"):
        return []
    from models.backends.local import prepare_weights as prepare_local

    return prepare_local(model.removeprefix("local:"))


class PipelineWorker:
    """One pipeline process in its sandbox; requests are answered one at a time."""

    def __init__(
        self,
        agent_dir: Path | None = None,
        workspace: Path | None = None,
        model_paths: list[Path] | None = None,
        feature: FeatureSpec | None = None,
        model: str = "",
    ) -> None:
        if workspace is not None:  # readable from the start: a worker outlives a training
            adapter_store(workspace).mkdir(parents=True, exist_ok=True)
        try:
            sandboxed = sandboxed_command(
                [sys.executable, "-m", "levers.worker"],
                child_env(),
                agent_dir=agent_dir,
                workspace=workspace,
                model_paths=model_paths,
                rulers=feature_rulers(feature),
                third_party=third_party_code(agent_dir),
            )
        except SandboxError as exc:
            raise PipelineError(str(exc)) from None
        self.sandboxed = sandboxed
        self.workspace = workspace
        self.pool = feature.pool if feature is not None else ""  # its sandbox reads this pool
        # forked from the server that holds `model` loaded (levers.forkserver), else spawned
        self.process: subprocess.Popen | ForkedProcess = fork_worker(
            sandboxed, model
        ) or subprocess.Popen(
            sandboxed.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=sandboxed.env,
            cwd=sandboxed.scratch,
            text=True,
            encoding="utf-8",
        )
        self.forked = isinstance(self.process, ForkedProcess)  # never serves another agent
        self.lock = threading.Lock()
        self.users = 0  # gates holding this worker (see pipeline_for / release)
        self.prepared: dict[str, Any] = {}
        self.installed_only = True  # no agent's own lever files were ever loaded here
        self.sandbox = sandboxed.kind
        self.remote: set[str] = set()  # the models this process answers calls for

    @property
    def sources(self) -> dict[str, str]:
        return self.prepared.get("sources", {})

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def request(
        self,
        op: str,
        on_progress: Callable[[int, int], None] | None = None,
        timeout: float | None = None,
        **payload: Any,
    ) -> dict[str, Any]:
        """Send one request; progress lines go to `on_progress`; returns the checked reply.
        Past `timeout` seconds the process is killed (PipelineError)."""
        assert self.process.stdin is not None and self.process.stdout is not None
        watchdog = threading.Timer(timeout, self.process.kill) if timeout else None
        if watchdog is not None:
            watchdog.daemon = True
            watchdog.start()
        try:
            return self._request(op, on_progress, payload)
        except PipelineError as exc:
            if watchdog is not None and not watchdog.is_alive() and self.process.poll() is not None:
                raise PipelineError(f"the lever pipeline took over {timeout:.0f}s: {exc}") from None
            raise
        finally:
            if watchdog is not None:
                watchdog.cancel()

    def _request(
        self, op: str, on_progress: Callable[[int, int], None] | None, payload: dict[str, Any]
    ) -> dict[str, Any]:
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
                if "call" in message:
                    self.answer(message["call"])
                    continue
                if "progress" in message and on_progress is not None:
                    done, total = message["progress"]
                    on_progress(int(done), int(total))
                if "reply" in message:
                    return self.check(message["reply"])

    def answer(self, call: Any) -> None:
        """Run a model call the worker asked for, with a model held here; the answer (or the
        error) goes back on its stdin."""
        try:
            spec = call.get("spec") if isinstance(call, dict) else None
            if spec not in self.remote:
                raise PipelineError(f"model {spec!r} is not served to lever code")
            batch = [[Message.model_validate(m) for m in messages] for messages in call["batch"]]
            options = GenerationOptions.model_validate(call["options"])
            completions = get_model(spec).generate_batch(batch, options)
            answer: dict[str, Any] = {
                "completions": [c.model_dump(mode="json") for c in completions]
            }
        except Exception as exc:  # noqa: BLE001 (the lever's call fails, not this process)
            answer = {"error": f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:300]}"}
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps({"answer": answer}) + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise self.died() from None

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
        how = f"killed by {signal_name(-code)}" if code < 0 else f"code {code}"
        return PipelineError(f"the lever pipeline process exited ({how})")

    def close(self) -> None:
        end_process(self.process)
        self.sandboxed.cleanup()


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


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


def agent_key(
    config: dict[str, Any],
    agent_dir: Path | None,
    workspace: Path | None,
    feature: FeatureSpec | None = None,
) -> str:
    parts: list[Any] = [config, str(agent_dir or ""), str(workspace or "")]
    if feature is not None:
        parts.append(feature_payload(feature))
    payload = json.dumps(parts, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def runs_installed_code_only(agent_dir: Path | None) -> bool:
    """The agent has no lever files of its own: everything it runs is installed code."""
    return agent_dir is None or not any((agent_dir / "levers").glob("*.py"))


def _reusable(
    key: str, installed_only: bool, workspace: Path | None, pool: str = ""
) -> tuple[PipelineWorker | None, bool]:
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
        fit = installed_only and idle.installed_only and idle.alive and not idle.forked
        fit = fit and idle.workspace == workspace  # its sandbox was drawn for that workspace
        fit = fit and idle.pool == pool  # and for that feature's pool
        if spare is None and fit and sources_unchanged(idle.sources):
            spare = idle
            continue
        idle.close()
    if spare is not None:
        spare.users = 1
        _workers[key] = spare
    return spare, False


def pipeline_for(
    config: dict[str, Any],
    agent_dir: Path | None,
    workspace: Path | None,
    feature: FeatureSpec | None = None,
) -> PipelineWorker:
    """A prepared worker for this agent: the warm one when it ran this very agent and its code
    is unchanged (or, for an agent of installed code only, one that only ever ran such agents),
    else a fresh process. Give it back with `release` when the gate is done."""
    key = agent_key(config, agent_dir, workspace, feature)
    installed_only = runs_installed_code_only(agent_dir)
    if installed_only:
        agent_dir = None  # nothing of the folder runs: any spare worker may serve the agent
    with _lock:
        pool = feature.pool if feature is not None else ""
        worker, prepared = _reusable(key, installed_only, workspace, pool)
    if prepared:
        return worker  # type: ignore[return-value]
    if worker is not None:
        try:
            return _prepare(worker, config, agent_dir, workspace, feature)
        except PipelineError:  # e.g. a lever package installed since it started: start afresh
            pass
    model = str(config.get("model") or "")
    worker = PipelineWorker(agent_dir, workspace, prepare_weights(config), feature, model)
    worker.users = 1
    worker.installed_only = installed_only
    with _lock:
        if key not in _workers:  # another gate may hold this agent's worker: this one is spare
            _workers[key] = worker
    return _prepare(worker, config, agent_dir, workspace, feature)


def _prepare(
    worker: PipelineWorker,
    config: dict[str, Any],
    agent_dir: Path | None,
    workspace: Path | None,
    feature: FeatureSpec | None = None,
) -> PipelineWorker:
    worker.remote = set(remote_specs(config))
    try:
        worker.prepared = worker.request(
            "prepare",
            config=config,
            agent_dir=str(agent_dir) if agent_dir else None,
            workspace=str(workspace) if workspace else None,
            remote=sorted(worker.remote),
            feature=feature_payload(feature),
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


def run_once(
    config: dict[str, Any],
    tasks: list[dict[str, str]],
    agent_dir: Path | None,
    workspace: Path | None,
    timeout: float | None,
    ops: tuple[str, ...] = ("run",),
    on_progress: Callable[[int, int], None] | None = None,
    feature: FeatureSpec | None = None,
) -> dict[str, Any]:
    """An agent on `tasks` ({id, task}) in a fresh sandboxed worker that serves nothing else (a
    trial of a draft, the training track's prompts and drafts): each of `ops` ("run",
    "prompts") answered, merged into one reply; `feature` is what the levers serve (None: the
    planner)."""
    model = str(config.get("model") or "")
    worker = PipelineWorker(agent_dir, workspace, prepare_weights(config), feature, model)
    worker.remote = set(remote_specs(config))
    found: dict[str, Any] = {}
    try:
        worker.request(
            "prepare",
            timeout=timeout,
            config=config,
            agent_dir=str(agent_dir) if agent_dir else None,
            workspace=str(workspace) if workspace else None,
            remote=sorted(worker.remote),
            feature=feature_payload(feature),
        )
        for op in ops:
            found.update(worker.request(op, on_progress, timeout=timeout, cases=tasks))
    finally:
        worker.close()
    return found


DESCRIBE_LIMIT = 400  # a lever's summary, as lever code wrote it, leaves here bounded


def describe_levers(levers_dir: Path | None) -> dict[str, dict[str, Any]]:
    """Name → class, summary and params schema of every lever, with a folder's lever files,
    read in a short-lived pipeline process (so no lever file is imported here)."""
    agent_dir = levers_dir.parent if levers_dir is not None else None
    worker = PipelineWorker(agent_dir if levers_dir is not None and levers_dir.is_dir() else None)
    try:
        reply = worker.request(
            "describe", timeout=120, levers_dir=str(levers_dir) if levers_dir else None
        )
    finally:
        worker.close()
    return {name: _bounded(info) for name, info in reply["levers"].items()}


def _bounded(info: dict[str, Any]) -> dict[str, Any]:
    """A lever's description with its lever-written text cut to size."""
    params = info.get("params")
    if len(json.dumps(params, default=str)) > 4 * DESCRIBE_LIMIT:
        params = {"note": "(params schema too long to show)"}
    return {
        **info,
        "summary": str(info.get("summary") or "")[:DESCRIBE_LIMIT],
        "params": params,
        "source": str(info.get("source") or ""),
    }


atexit.register(close_pipelines)
