"""Batch proposals for a parallel round: the heuristic's own, and the default over `propose`."""

from __future__ import annotations

import pytest

from orchestrator.researchers.base import (
    ExperimentSummary,
    LogView,
    Proposal,
    SearchExhausted,
    TrainingRequest,
    propose_batch,
)
from orchestrator.researchers.heuristic import HeuristicResearcher, canonical

BEST = {"model": "fake:planner", "levers": [{"name": "prompt", "params": {}}]}


def log_after_baseline() -> LogView:
    baseline = ExperimentSummary(id="001", status="kept", lever_class="baseline", hypothesis="b")
    baseline.agent = dict(BEST)
    return LogView(experiments=[baseline], best_id="001", best_agent=dict(BEST))


class Counting:
    """Proposes step n (n = experiments it sees), so a view with the batch so far moves on."""

    name = "counting"

    def __init__(
        self, repeat: bool = False, train_at: int | None = None, last: int | None = None
    ) -> None:
        self.repeat, self.train_at, self.last = repeat, train_at, last

    def propose(self, log: LogView, notes: list[str]) -> Proposal:
        n = 1 if self.repeat else len(log.experiments)
        if self.last is not None and n > self.last:
            raise SearchExhausted(f"nothing after step {self.last}")
        request = TrainingRequest(rationale="plateau") if n == self.train_at else None
        return Proposal(
            hypothesis=f"step {n}",
            lever_class="prompt",
            agent_patch={"temperature": n / 10},
            training_request=request,
        )

    def repair(self, proposal: Proposal, report: str) -> Proposal | None:
        return None


def test_the_default_batch_shows_the_researcher_its_earlier_proposals():
    batch = propose_batch(Counting(), log_after_baseline(), [], 3)
    assert [p.hypothesis for p in batch] == ["step 1", "step 2", "step 3"]


def test_the_default_batch_ends_at_a_repeat_or_a_training_request():
    assert len(propose_batch(Counting(repeat=True), log_after_baseline(), [], 4)) == 1
    batch = propose_batch(Counting(train_at=2), log_after_baseline(), [], 4)
    assert [p.hypothesis for p in batch] == ["step 1"]  # the request waits for a round alone
    alone = propose_batch(Counting(train_at=1), log_after_baseline(), [], 4)
    assert len(alone) == 1 and alone[0].training_request is not None


def test_the_baseline_runs_alone():
    assert len(propose_batch(Counting(), LogView(best_agent=dict(BEST)), [], 4)) == 1
    batch = propose_batch(HeuristicResearcher(), LogView(best_agent=dict(BEST)), [], 4)
    assert [p.lever_class for p in batch] == ["baseline"]


def test_the_heuristic_batch_is_its_next_k_distinct_untried_moves():
    researcher = HeuristicResearcher(plateau_after=10_000)
    log = log_after_baseline()
    batch = researcher.propose_batch(log, [], 4)
    assert len(batch) == 4
    agents = [canonical({**BEST, **p.agent_patch}) for p in batch]
    assert len(set(agents)) == 4 and canonical(BEST) not in agents
    assert batch[0] == researcher.propose(log, [])  # the first is what `propose` would say


def test_the_default_batch_keeps_what_it_has_when_the_search_runs_out():
    batch = propose_batch(Counting(last=2), log_after_baseline(), [], 4)
    assert [p.hypothesis for p in batch] == ["step 1", "step 2"]  # the round runs these
    with pytest.raises(SearchExhausted, match="nothing after step 0"):  # none: the run stops
        propose_batch(Counting(last=0), log_after_baseline(), [], 4)
