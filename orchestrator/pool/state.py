"""What the parallel pool's graph checkpoints: the run's options, each experiment as planned
and as finished by a worker, and the state that holds them between nodes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from models import AutoresearchError
from orchestrator.ray_workers import (
    GateRun,
    require_ray,
)
from orchestrator.researchers.base import (
    Proposal,
)
from orchestrator.state import STATE_MODELS, LoopState


@dataclass(frozen=True)
class ParallelOptions:
    """`--parallel K [--ray ADDRESS] [--shard-cases] [--worker-cpus N]`; `local` runs the pool
    in this process, without Ray."""

    workers: int
    address: str | None = None
    shard_cases: bool = False
    cpus_per_worker: float = 1.0
    local: bool = False  # the pool in this process (orchestrator.pool.local), no Ray

    def check(self, supervised: bool) -> None:
        if self.workers < 1:
            raise AutoresearchError(f"--parallel {self.workers}: give at least one worker")
        if self.cpus_per_worker <= 0:
            raise AutoresearchError(f"--worker-cpus {self.cpus_per_worker:g}: must be above 0")
        if supervised:
            raise AutoresearchError(
                "--supervised approves experiments one at a time; it does not combine with "
                "--parallel (training requests still wait for approve/deny)"
            )
        if not self.local:
            require_ray()


class Planned(BaseModel):
    """One experiment, as proposed."""

    model_config = ConfigDict(extra="forbid")

    exp_id: str
    proposal: Proposal
    proposal_error: str = ""
    notes_seen: list[str] = Field(default_factory=list)


class Finished(BaseModel):
    """One experiment's gates as run by a worker (its decision waits for record_ready)."""

    model_config = ConfigDict(extra="forbid")

    exp_id: str
    worker: str = ""
    failure: str = ""
    method: str = ""
    agent: dict[str, Any] = Field(default_factory=dict)
    lever_path: str | None = None
    proposal: Proposal | None = None  # the researcher's repair of a lever that failed validation
    adapter_hash: str | None = None
    runs: list[GateRun] = Field(default_factory=list)
    seconds: float = 0.0


class ParallelState(LoopState, total=False):
    planned: dict[str, Planned]  # every experiment proposed and not yet recorded, by id
    finished: dict[str, Finished]  # those run, waiting for the ids below them to be recorded


PARALLEL_MODELS: tuple[type[BaseModel], ...] = (*STATE_MODELS, Planned, Finished, GateRun)
