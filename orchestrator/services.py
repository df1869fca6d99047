"""The graph's services over a real workspace, one module a job, composed here:

- `steering`: the control channel (notes, pause, stop), events, live status and progress;
- `research_view`: what the researcher sees (the log view, research tools, repeats refused);
- `lever_check`: a proposal's lever module written and validated inside the proposed agent;
- `pool.experiments`: each experiment prepared and run on a worker, then its outcome decided
  (`gates`: the keep gate, the confirm gate when promising, the comparison with the best);
- `record`: the experiment committed, counted and shown on the dashboard;
- `recheck`: the new best re-measured with a fresh seed (winner's curse);
- `training`: adapter training on the supervisor's approval.

The keep decision (`promising`, `decide`) is `ruler.keep_policy`'s: an experiment runs on the
keep gate, goes on to the confirm gate when the `[keep] screen` rule passes on the keep gate's
per-case deltas, and is kept only when the paired lower bound of its gain on the decisive gate
is above `min_delta`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator.budget import Budget
from orchestrator.gates import every_case_failed
from orchestrator.lever_check import LeverCheck
from orchestrator.pool.experiments import Experiments
from orchestrator.pool.local import LocalPool
from orchestrator.pool.options import PoolOptions
from orchestrator.ray_workers import WorkerPool
from orchestrator.recheck import Recheck, judge_flip_rate, stochastic
from orchestrator.record import UNSANDBOXED_NOTE, Recorder
from orchestrator.research_view import ResearchView
from orchestrator.researchers.base import Researcher
from orchestrator.state import ExperimentRun
from orchestrator.steering import Steering
from orchestrator.training import Training
from runlog.workspace import Workspace

__all__ = [
    "UNSANDBOXED_NOTE",
    "WorkspaceServices",
    "every_case_failed",
    "judge_flip_rate",
    "stochastic",
]


@dataclass
class WorkspaceServices(
    Steering, ResearchView, LeverCheck, Experiments, Recorder, Recheck, Training
):
    """Everything the graph's nodes do to the world, over one workspace and one researcher;
    the pool and the experiments' threads are set for one run (`pool.options.workers`)."""

    ws: Workspace
    researcher: Researcher
    budget: Budget = field(default_factory=Budget)
    supervised: bool = False
    on_progress: Callable[[str, dict[str, Any]], None] | None = None
    poll_seconds: float = 0.5
    node_seconds: dict[str, float] = field(default_factory=dict)
    dashboard: Path | None = None  # rewritten after every recorded experiment
    options: PoolOptions = field(default_factory=PoolOptions)
    pool: WorkerPool | LocalPool | None = None
    threads: ThreadPoolExecutor | None = None
    running: dict[str, Future[ExperimentRun]] = field(default_factory=dict)
    in_flight: dict[str, str] = field(default_factory=dict)  # experiment id → worker
    _node: tuple[str, float] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _tree: threading.Lock = field(default_factory=threading.Lock)  # agent/ and the best

    def publish_status(self, state: str, **fields: Any) -> None:
        with self._lock:
            flying = dict(self.in_flight)
        super().publish_status(state, in_flight=flying, **fields)
