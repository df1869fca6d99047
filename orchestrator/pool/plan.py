"""Proposals for the free worker slots: the researcher asked for a batch, which the graph's
checks screen (a repeat of an agent already run or in flight, training that cannot run here);
a batch refused whole goes back with the reasons."""

from __future__ import annotations

from dataclasses import dataclass, field

from orchestrator.graph import (
    EXHAUSTED,
    MAX_RETRIES,
    bound_log,
    refusal,
    refused_too_often,
    researcher_error,
)
from orchestrator.pool.services import ParallelServices
from orchestrator.pool.state import Planned
from orchestrator.researchers.base import (
    Proposal,
    SearchExhausted,
    propose_batch,
    with_running,
)


@dataclass
class BatchPlan:
    """What the researcher proposed for the free slots, as the graph's checks leave it."""

    proposals: list[Proposal]
    error: str = ""  # one failed experiment (the researcher failed, or was refused)
    stop: str = ""  # no more proposals (the researcher's search space is exhausted)
    refused: list[str] = field(default_factory=list)  # why proposals were dropped
    dropped_usd: float = 0.0  # what the dropped proposals cost
    first: int = 0  # the id of the plan's first proposal


def drop_refused(
    services: ParallelServices,
    batch: list[Proposal],
    first: int,
    flying: list[Proposal] | tuple[Proposal, ...] = (),
) -> BatchPlan:
    """The batch less what check_proposal would refuse (a repeat of an experiment already
    run, training that cannot run here) and less repeats of the experiments in flight or of the
    batch's own earlier proposals; the reasons for what was dropped are the plan's `refused`,
    its cost the plan's `dropped_usd`."""
    plan = BatchPlan([])
    keys = [services.agent_key(p) for p in flying]
    for i, proposal in enumerate(batch):
        reason = refusal(services, proposal, f"{first + i:03d}")
        key = services.agent_key(proposal)
        if not reason and not proposal.training_request and key in keys:
            reason = "refused: this agent is another experiment in flight; change it"
        if reason:
            plan.refused.append(reason)
            plan.dropped_usd += proposal.research_cost_usd
            continue
        plan.proposals.append(proposal)
        keys.append(key)
    return plan


def plan_batch(
    services: ParallelServices,
    notes: list[str],
    slots: int = 1,
    planned: dict[str, Planned] | None = None,
) -> BatchPlan:
    """Up to `slots` proposals that pass the checks, the researcher seeing the experiments not
    yet recorded as running ones; a batch refused whole goes back to the researcher with the
    reasons (at most MAX_RETRIES times, then one failed experiment). What the dropped proposals
    cost is carried by the plan's first."""
    planned = planned or {}
    first = services.first_free_id(planned)
    running = [(exp, p.proposal) for exp, p in sorted(planned.items())]
    feedback: list[str] = []
    cost = 0.0
    for _ in range(MAX_RETRIES + 1):
        try:
            log = with_running(bound_log(services, feedback), running)
            batch = propose_batch(services.researcher, log, notes, slots)
        except SearchExhausted:
            return BatchPlan([], stop=EXHAUSTED, first=first)
        except Exception as exc:  # a researcher's failure is a failed experiment, not a crash
            error, stand_in = researcher_error(exc)
            return BatchPlan([charged(stand_in, cost)], error=error, first=first)
        batch = batch or [Proposal(hypothesis="(no proposal)", lever_class="other")]
        plan = drop_refused(services, batch, first, [p for _, p in running])
        cost += plan.dropped_usd
        if plan.proposals:
            proposals = [charged(plan.proposals[0], cost), *plan.proposals[1:]]
            return BatchPlan(proposals, first=first)
        feedback = plan.refused
    # refused every time: the last batch's first, as a failed experiment carrying every cost
    last = batch[0]
    error = refused_too_often(MAX_RETRIES + 1, feedback[0])
    return BatchPlan([charged(last, cost - last.research_cost_usd)], error=error, first=first)


def charged(proposal: Proposal, extra_usd: float) -> Proposal:
    """`proposal` also carrying `extra_usd` of research cost."""
    if not extra_usd:
        return proposal
    return proposal.model_copy(update={"research_cost_usd": proposal.research_cost_usd + extra_usd})
