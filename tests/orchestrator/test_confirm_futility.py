"""The driver hands a confirm gate its early stop: the best's per-case quality on that gate,
the workspace's keep rule and `[keep] futility` (0 switches it off)."""

from __future__ import annotations

import pytest

from orchestrator.loop import run_loop
from orchestrator.researchers.heuristic import HeuristicResearcher
from orchestrator.services import WorkspaceServices
from runlog.settings import dump_config
from runlog.workspace import Workspace


@pytest.mark.slow
def test_a_confirm_job_carries_the_futility_check_against_the_best(tmp_path):
    root = Workspace.init(tmp_path / "ws", model="fake:planner", judge="fake:judge").main_root
    run_loop(root, experiments=1, researcher=HeuristicResearcher())  # the baseline: the best
    ws = Workspace.open(root)
    best = ws.current_best().record
    services = WorkspaceServices(ws, HeuristicResearcher())
    job = services.job("002", "full-30", "tree", best)
    full = next(g for g in best.gates if g.gate == "full-30")
    assert job.futility is not None and job.futility.best == full.per_case_quality
    assert (job.futility.threshold, job.futility.policy) == (0.05, "interval")
    assert services.job("002", "dev-10", "tree").futility is None  # no best given: none
    ws.config.keep.futility = 0.0
    (root / "autoresearch.toml").write_text(dump_config(ws.config))
    off = WorkspaceServices(Workspace.open(root), HeuristicResearcher())
    assert off.job("002", "full-30", "tree", best).futility is None
