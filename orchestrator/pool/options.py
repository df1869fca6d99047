"""How a run's experiments are spread: `PoolOptions` (`--parallel K [--ray ADDRESS]
[--shard-cases] [--worker-cpus N]`) and the worker pool they start for one run."""

from __future__ import annotations

import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from models import AutoresearchError
from orchestrator.pool.local import LocalPool
from orchestrator.ray_workers import WorkerPool, connect, require_ray


@dataclass(frozen=True)
class PoolOptions:
    """K workers, in this process (`local`: one slot by default, the plain `run`) or on Ray
    actors (a local Ray, or the cluster at `address`)."""

    workers: int = 1
    address: str | None = None
    shard_cases: bool = False
    cpus_per_worker: float = 1.0
    local: bool = True

    def check(self) -> None:
        if self.workers < 1:
            raise AutoresearchError(f"--parallel {self.workers}: give at least one worker")
        if self.cpus_per_worker <= 0:
            raise AutoresearchError(f"--worker-cpus {self.cpus_per_worker:g}: must be above 0")
        if not self.local:
            require_ray()


class PoolOwner(Protocol):
    """Where the run's pool and experiment threads live (`WorkspaceServices`)."""

    pool: WorkerPool | LocalPool | None
    threads: ThreadPoolExecutor | None
    running: dict[str, Any]


@contextmanager
def workers(owner: PoolOwner, options: PoolOptions) -> Iterator[WorkerPool | LocalPool]:
    """The pool for one run, set on `owner` while it lasts: in this process (`options.local`),
    or Ray's (local, or the cluster at `options.address`)."""
    ray, started = None, False
    if not options.local:
        ray = require_ray()
        started = connect(
            ray, options.address, math.ceil(options.workers * options.cpus_per_worker)
        )
    try:
        pool = (
            WorkerPool(ray, options.workers, options.cpus_per_worker)
            if ray is not None
            else LocalPool(options.workers)
        )
        owner.pool = pool
        owner.threads = ThreadPoolExecutor(options.workers, thread_name_prefix="experiment")
        yield pool
    finally:  # a driver stopped by an error leaves the experiments in flight to the resume
        if owner.threads is not None:
            owner.threads.shutdown(wait=False, cancel_futures=True)
        owner.pool = None
        owner.threads = None
        owner.running.clear()
        if started and ray is not None:
            ray.shutdown()
