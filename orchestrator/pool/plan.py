"""Proposals for the free worker slots: the researcher asked for a batch, which is screened
(a repeat of an agent already run or in flight, training that cannot run here); a batch refused
whole goes back to the researcher with the reasons, at most MAX_RETRIES times."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from orchestrator.researchers.base import (
    LogView,
    Proposal,
    ProposalFailed,
    Researcher,
    ResearchKit,
    SearchExhausted,
    UsesWorkspace,
    apply_patch,
    propose_batch,
    with_running,
)
from orchestrator.researchers.cost import lever_priors, predict_seconds
from orchestrator.researchers.heuristic import moves_for
from orchestrator.state import Planned

EXHAUSTED = "search space exhausted"  # the stop reason of a researcher with nothing left
MAX_RETRIES = 2  # batches refused whole and sent back before the experiment is a failure


class PlanServices(Protocol):
    """What planning needs of the workspace (`WorkspaceServices` over a real one)."""

    researcher: Researcher

    def log_view(self, feedback: list[str] | None = None) -> LogView: ...
    def research_kit(self, log: LogView) -> ResearchKit: ...
    def repeat_of(self, proposal: Proposal) -> str | None: ...
    def trainable(self) -> tuple[bool, str]: ...
    def agent_key(self, proposal: Proposal) -> Any: ...
    def first_free_id(self, planned: dict[str, Planned]) -> int: ...
    def record_event(self, kind: str, /, **payload: Any) -> None: ...


def research_view(services: PlanServices, feedback: list[str] | None = None) -> LogView:
    """The log view for a research turn; a researcher using the workspace is bound to its
    research kit over that view first."""
    log = services.log_view(feedback)
    if isinstance(services.researcher, UsesWorkspace):
        services.researcher.bind(services.research_kit(log))
    return log


def researcher_error(exc: Exception) -> tuple[str, Proposal]:
    """A researcher's failure to propose: the experiment's failure, and its stand-in proposal
    (carrying what the failed research turn cost)."""
    cost = exc.cost_usd if isinstance(exc, ProposalFailed) else 0.0
    stand_in = Proposal(
        hypothesis="(no proposal: researcher error)", lever_class="other", research_cost_usd=cost
    )
    return f"the researcher could not propose: {type(exc).__name__}: {exc}", stand_in


def refusal(services: PlanServices, proposal: Proposal, exp_id: str) -> str:
    """Why `proposal` may not run as experiment `exp_id` (a repeat of an agent already run, or
    training a model that cannot train here; the latter is logged), or '' when it may."""
    if proposal.training_request:
        ok, why = services.trainable()
        if ok:
            return ""
        services.record_event("refused", request=exp_id, note=why)
        return f"training request refused: {why}"
    if earlier := services.repeat_of(proposal):
        return f"refused: this agent is the one experiment {earlier} already ran; change it"
    return ""


def refused_too_often(times: int, reason: str) -> str:
    return f"proposal refused {times} times; {reason}"


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
    services: PlanServices,
    batch: list[Proposal],
    first: int,
    flying: list[Proposal] | tuple[Proposal, ...] = (),
) -> BatchPlan:
    """The batch less what `refusal` refuses (a repeat of an experiment already
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
    services: PlanServices,
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
            log = with_running(research_view(services, feedback), running)
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
            return BatchPlan([costed(p, log) for p in proposals], first=first)
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


def costed(proposal: Proposal, log: LogView) -> Proposal:
    """`proposal` with its predicted keep-gate seconds, where its researcher gave none (the
    heuristic predicts its own moves; Optuna, random search and Claude do not):
    `orchestrator.researchers.cost.predict_seconds` over the log's timed experiments."""
    if proposal.predicted_seconds is not None or proposal.training_request:
        return proposal
    agent = apply_patch(log.best_agent, proposal.agent_patch)
    seconds = predict_seconds(log, agent, log.keep_gate_cases, lever_priors(moves_for(log.feature)))
    if seconds is None:
        return proposal
    return proposal.model_copy(update={"predicted_seconds": round(seconds, 1)})
