"""What a worker is asked (`GateJob`: one gate of one experiment's prepared agent folder) and
what it answers (`GateRun`), for the local pool and Ray's alike."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ruler.keep_policy import Futility
from ruler.records import GateResult
from runlog.records import OutputRow


class GateJob(BaseModel):
    """One gate of one experiment (or, with `cases`, one shard of its candidate runs)."""

    model_config = ConfigDict(extra="forbid")

    exp_id: str
    root: str  # the workspace's main root
    agent_dir: str  # the experiment's prepared agent/ folder
    tree_hash: str  # git tree hash of that folder as `agent/` (the output cache's key)
    gate: str
    cases: list[str] | None = None  # a shard: run (and cache) only these cases, judge none
    futility: Futility | None = None  # a confirm gate: stop halfway when a keep is unlikely


class GateRun(BaseModel):
    """What a worker answers: the gate's result with its per-case rows, or why it failed."""

    model_config = ConfigDict(extra="forbid")

    exp_id: str
    gate: str
    worker: str = ""
    failure: str = ""
    result: GateResult | None = None
    outputs: list[OutputRow] = Field(default_factory=list)
    trace: list[dict[str, Any]] = Field(default_factory=list)
    cost_usd: float = 0.0
    model_seconds: float = 0.0
    judge_seconds: float = 0.0
    model_id: str = ""
    judge_id: str = ""
    cached_cases: int = 0  # cases whose outputs came from the output cache
    seconds: float = 0.0
