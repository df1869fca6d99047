"""A worker pool in this process: each experiment's gate jobs run in its own driver thread
(the lever pipeline still runs in its sandboxed process), with no Ray. It has the Ray pool's
shape (`names`, `borrow`, `run`, `run_sharded`), so the driver runs unchanged on either; the
plain `run` is this pool with one slot."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from orchestrator.pool.jobs import GateJob, GateRun
from orchestrator.ray_workers import run_gate_job
from runlog.evaluate import Progress


class LocalPool:
    """`workers` slots in this process; a job borrows a free one for one experiment."""

    def __init__(self, workers: int) -> None:
        self.names = [f"w{i + 1}" for i in range(workers)]
        self.free: queue.Queue[int] = queue.Queue()
        for i in range(workers):
            self.free.put(i)

    @contextmanager
    def borrow(self) -> Iterator[int]:
        index = self.free.get()
        try:
            yield index
        finally:
            self.free.put(index)

    def run(self, index: int, job: GateJob, progress: Progress | None = None) -> GateRun:
        return run_gate_job(job, self.names[index], progress)

    def run_sharded(self, index: int, job: GateJob, case_ids: list[str]) -> GateRun:
        """The gate's cases spread over every slot's thread, then judged (all cached) here."""
        shards = [case_ids[i :: len(self.names)] for i in range(len(self.names))]
        jobs = [(i, job.model_copy(update={"cases": s})) for i, s in enumerate(shards) if s]
        with ThreadPoolExecutor(len(jobs) or 1, thread_name_prefix="shard") as threads:
            shard_runs = list(threads.map(lambda pair: self.run(*pair), jobs))
        if failed := next((r for r in shard_runs if r.failure), None):
            return failed
        judged = self.run(index, job)
        return judged.model_copy(update={"worker": "+".join(r.worker for r in shard_runs)})
