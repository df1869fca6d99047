"""Gate workers on Ray, and the gate job every worker runs.

`run_gate_job` is the job itself (the in-process pool runs it in a thread); `WorkerPool` puts
the workers on Ray actors for `autoresearch run --ray ADDRESS`. Ray itself is imported when
that pool starts (`require_ray`, `connect`), so a run without `--ray` never loads it.

A `GateJob` names an experiment's prepared agent folder (written by the driver under the
workspace's `.autoresearch/parallel/`) and a gate; the worker evaluates it with the workspace's
ruler, judge and caches and answers a `GateRun`. Workers never write git or records: the driver
alone does. A worker reads the workspace by path, so on a multi-machine cluster the workspace
must sit on a filesystem every node mounts at the same path.
"""

from __future__ import annotations

import os
import queue
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from levers.config import read_agent
from levers.sandbox import UNSANDBOXED_ENV, allow_unsandboxed, unsandboxed_allowed
from models import AutoresearchError
from orchestrator.gates import evaluation_cost, one_line
from orchestrator.pool.jobs import GateJob, GateRun
from runlog.boundary import Boundary
from runlog.evaluate import (
    Progress,
    evaluate_config,
    resolve_judge,
    workspace_caches,
    workspace_ruler,
)
from runlog.generate import generate
from runlog.workspace import Workspace

WORKER_ENV = "AUTORESEARCH_WORKER"  # set in every worker process to the worker's name
SCALE_EXTRA = "pip install 'autoresearch[scale]'"


def require_ray() -> Any:
    """The `ray` module, or a clear error naming the extra that installs it."""
    try:
        import ray
    except ImportError:
        raise AutoresearchError(
            f"--parallel runs experiments on Ray, which is not installed: {SCALE_EXTRA}"
        ) from None
    return ray


def run_gate_job(job: GateJob, worker: str = "", progress: Progress | None = None) -> GateRun:
    """Evaluate the job's agent on its gate with the workspace's ruler, judge and caches
    (`progress` hears each case generated and judged, in a worker of this process)."""
    started = time.perf_counter()
    ws = Workspace.open(job.root, repair=False)
    try:
        ruler = workspace_ruler(ws)
        agent_dir = Path(job.agent_dir)
        if job.cases is not None:  # a shard only fills the cache
            return _run_shard(job, ws, ruler, worker, started)
        config = read_agent(agent_dir / "agent.toml")  # levers load in the pipeline process
        judge = resolve_judge(ws.config.judge.spec, ruler)
        run = evaluate_config(
            config,
            gate=job.gate,
            judge=judge,
            mode=ws.config.judge.mode,
            ruler=ruler,
            tree_hash=job.tree_hash,
            agent_dir=agent_dir,
            progress=progress,
            futility=job.futility,
            **workspace_caches(ws),
        )
    except (AutoresearchError, ValueError) as exc:
        return GateRun(exp_id=job.exp_id, gate=job.gate, worker=worker, failure=one_line(exc))
    return GateRun(
        exp_id=job.exp_id,
        gate=job.gate,
        worker=worker,
        result=run.result,
        outputs=run.outputs(),
        trace=[n.model_dump(mode="json") for n in run.trace],
        cost_usd=evaluation_cost(run),
        model_seconds=max(0.0, run.seconds - run.result.judge_seconds),
        judge_seconds=run.result.judge_seconds,
        model_id=config.model,
        judge_id=run.result.judge_id,
        cached_cases=run.cached_cases,
        seconds=time.perf_counter() - started,
    )


def _run_shard(job: GateJob, ws: Workspace, ruler: Any, worker: str, started: float) -> GateRun:
    """Run the candidate on the shard's cases in the lever pipeline process, as the gate would,
    and cache what ran under the key the judging gate looks up (the judging comes after)."""
    wanted = set(job.cases or ())
    cases = [c for c in ruler.gate_cases(job.gate) if c.id in wanted]
    config = read_agent(Path(job.agent_dir) / "agent.toml")
    caches = workspace_caches(ws)
    boundary = Boundary.take(ruler)
    made = generate(
        config,
        cases,
        boundary,
        job.tree_hash,
        caches["cache"],
        Path(job.agent_dir),
        caches["workspace"],
        True,  # lever code runs in its sandboxed pipeline process
    )
    boundary.check(job.gate)
    made.store(caches["cache"])  # a failed case is not cached: the judging gate reruns it
    return GateRun(
        exp_id=job.exp_id, gate=job.gate, worker=worker, seconds=time.perf_counter() - started
    )


class GateWorker:
    """The actor: a long-lived process whose model registry keeps the candidate loaded."""

    def __init__(self, name: str, unsandboxed: bool = False) -> None:
        self.name = name
        os.environ[WORKER_ENV] = name
        if unsandboxed:  # the driver's `--unsandboxed` (a worker may outlive one run)
            allow_unsandboxed()
        else:
            os.environ.pop(UNSANDBOXED_ENV, None)

    def run(self, job: GateJob) -> GateRun:
        return run_gate_job(job, self.name)

    def pid(self) -> int:
        return os.getpid()


class WorkerCrash(Exception):
    """A worker died (or its task raised) while running an experiment's job."""


class WorkerPool:
    """`workers` actors; a job borrows a free one, and its result is taken when it finishes."""

    def __init__(self, ray: Any, workers: int, cpus_per_worker: float = 1.0) -> None:
        self.ray = ray
        actor = ray.remote(num_cpus=cpus_per_worker, max_restarts=-1, max_task_retries=0)(
            GateWorker
        )
        self.names = [f"w{i + 1}" for i in range(workers)]
        self.actors = [actor.remote(name, unsandboxed_allowed()) for name in self.names]
        self.free: queue.Queue[int] = queue.Queue()
        for i in range(workers):
            self.free.put(i)
        self.crashed: set[int] = set()  # workers whose actor died: Ray restarts it

    @contextmanager
    def borrow(self) -> Iterator[int]:
        """A free worker's index for the duration of one experiment; a worker whose actor died
        goes back only once Ray has restarted it (a job sent while it restarts fails too)."""
        index = self.free.get()
        try:
            yield index
        finally:
            if index in self.crashed:
                self.revive(index)
            self.free.put(index)

    def revive(self, index: int, timeout: float = 300.0) -> None:
        """Wait until the worker's restarted actor answers (at most `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.ray.get(self.actors[index].pid.remote(), timeout=30)
            except self.ray.exceptions.RayError:
                time.sleep(1)
                continue
            self.crashed.discard(index)
            return

    def submit(self, index: int, job: GateJob) -> Any:
        return self.actors[index].run.remote(job)

    def wait(self, refs: list[Any], names: list[str]) -> list[GateRun]:
        """Each job's result, taken as it finishes; a crashed worker's job raises WorkerCrash."""
        pending = dict(zip(refs, names, strict=True))
        done: dict[Any, GateRun] = {}
        while pending:
            ready, _ = self.ray.wait(list(pending), num_returns=1)
            for ref in ready:
                name = pending.pop(ref)
                try:
                    done[ref] = self.ray.get(ref)
                except self.ray.exceptions.RayError as exc:
                    if _lost(self.ray, exc):
                        self.crashed.add(self.names.index(name))
                    raise WorkerCrash(
                        f"worker {name} {_what(self.ray, exc)}: {_reason(exc)}"
                    ) from exc
        return [done[ref] for ref in refs]

    def run(self, index: int, job: GateJob, progress: Progress | None = None) -> GateRun:
        """The job on worker `index` (an actor reports no progress until the gate ends)."""
        return self.wait([self.submit(index, job)], [self.names[index]])[0]

    def run_sharded(self, index: int, job: GateJob, case_ids: list[str]) -> GateRun:
        """The gate's cases spread over every worker, then judged (all cached) on `index`."""
        shards = [case_ids[i :: len(self.actors)] for i in range(len(self.actors))]
        jobs = [(i, job.model_copy(update={"cases": s})) for i, s in enumerate(shards) if s]
        refs = [self.submit(i, shard) for i, shard in jobs]
        shard_runs = self.wait(refs, [self.names[i] for i, _ in jobs])
        if failed := next((r for r in shard_runs if r.failure), None):
            return failed
        judged = self.run(index, job)
        return judged.model_copy(update={"worker": "+".join(r.worker for r in shard_runs)})


def _lost(ray: Any, exc: BaseException) -> bool:
    """The actor's process died (Ray restarts it), as opposed to the job raising."""
    return isinstance(exc, ray.exceptions.RayActorError | ray.exceptions.ActorUnavailableError)


def _what(ray: Any, exc: BaseException) -> str:
    return "crashed (its process died mid-job)" if _lost(ray, exc) else "failed"


def _reason(exc: BaseException) -> str:
    """The first line that says why (Ray's errors carry long tracebacks)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    died = next((line for line in lines if "died" in line or "exit" in line.lower()), "")
    return f"{type(exc).__name__}: {died or (lines[0] if lines else '')}"[:500]


def connect(ray: Any, address: str | None, num_cpus: int | None) -> bool:
    """Join the cluster at `address` (`auto` finds a local head), or start a local Ray for the
    run; returns whether this call started it (and so should shut it down)."""
    if ray.is_initialized():
        return False
    if address:
        ray.init(address=address, log_to_driver=False)
        return True
    ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
    return True
