"""What every researcher reads (a view of the run log) and answers (a proposal)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from levers.feature import PLANNER, FeatureSpec

TrainingKind = Literal["sft", "orpo"]


class TrainingRequest(BaseModel):
    """A researcher's ask for the manual training track; the supervisor approves or denies."""

    model_config = ConfigDict(extra="forbid")

    kind: TrainingKind = "sft"
    pairs: Literal["style", "on-policy"] | None = None
    rationale: str
    steps: int = Field(60, ge=1)
    rank: int = Field(8, ge=1)  # LoRA rank
    learning_rate: float = Field(2e-4, gt=0)
    pool_size: int | None = Field(None, ge=1)  # training-pool cases used (None: all)
    experiments: list[str] = Field(default_factory=list)

    @property
    def experiment_class(self) -> str:
        """The class of the experiment it becomes: SFT, or ORPO by its pairs (style unless
        asked otherwise, as the training track builds them)."""
        return "adapter-sft" if self.kind == "sft" else f"adapter-orpo-{self.pairs or 'style'}"


class Proposal(BaseModel):
    """One experiment: a hypothesis and the change to the agent that tests it."""

    model_config = ConfigDict(extra="forbid")

    hypothesis: str
    method: str = ""
    lever_class: str
    agent_patch: dict[str, Any] = Field(default_factory=dict)
    lever_code: str | None = None
    lever_filename: str | None = None
    training_request: TrainingRequest | None = None
    predicted_delta: float | None = None  # pre-registered: expected quality change on keep gate
    predicted_seconds: float | None = None  # pre-registered: expected keep-gate wall seconds
    research_cost_usd: float = Field(0.0, ge=0)  # what proposing it cost (model calls, trials)


class SearchExhausted(Exception):
    """Raised by `propose` when a researcher has nothing left to try; the run stops on it."""


class ProposalFailed(Exception):
    """Raised by `propose` when a research turn ends without a proposal; carries its cost."""

    def __init__(self, message: str, cost_usd: float = 0.0) -> None:
        super().__init__(message)
        self.cost_usd = cost_usd


class ExperimentSummary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    status: str
    lever_class: str
    hypothesis: str
    quality: float | None = None
    dimensions: dict[str, float] = Field(default_factory=dict)
    gate: str = ""
    agent: dict[str, Any] = Field(default_factory=dict)
    failure: str = ""
    delta: float | None = None  # paired gain over the best at its time, on its first gate
    seconds_per_case: float | None = None  # model seconds per case generated (judge aside)


class LogView(BaseModel):
    """The run log as a researcher sees it: every experiment so far and the current best."""

    model_config = ConfigDict(extra="forbid")

    experiments: list[ExperimentSummary] = Field(default_factory=list)
    best_id: str | None = None
    best_agent: dict[str, Any] = Field(default_factory=dict)
    best_quality: float | None = None
    since_last_kept: int = 0
    training_requests: int = 0
    trainings_granted: int = 0  # trainings the supervisor's last grant still approves unasked
    notes_history: list[str] = Field(default_factory=list)
    adapters: list[dict[str, Any]] = Field(default_factory=list)
    levers: dict[str, dict[str, Any]] = Field(default_factory=dict)
    results_tsv: str = ""
    trainable_here: bool | None = None  # whether the candidate's weights can be trained here
    trainable_reason: str = ""
    feedback: list[str] = Field(default_factory=list)  # why the graph sent a proposal back
    feature: FeatureSpec = PLANNER  # what the agent is for: its instruction, contract, rubric
    keep_gate_cases: int = 10  # the cases of the gate every experiment runs first


class Researcher(Protocol):
    name: str

    def propose(self, log: LogView, notes: list[str]) -> Proposal: ...

    def repair(self, proposal: Proposal, report: str) -> Proposal | None:
        """One chance to fix a lever module that failed validation; None gives up."""
        ...

    # optional: `propose_batch(log, notes, k) -> list[Proposal]`, up to k distinct proposals
    # for k idle parallel workers; `propose_batch` below falls back to `propose` k times


def stock_agent() -> Proposal:
    """Every workspace's first experiment, whatever the researcher: the stock agent unchanged,
    so the line starts from a measured baseline and not from the researcher's first idea."""
    return Proposal(
        hypothesis="Baseline: the stock agent as it stands",
        method="Run the agent unchanged on the gate.",
        lever_class="baseline",
    )


def propose_batch(researcher: Researcher, log: LogView, notes: list[str], k: int) -> list[Proposal]:
    """Up to `k` distinct proposals for `k` idle parallel workers, never more than one training
    request.

    A researcher with its own `propose_batch` answers; otherwise `propose` is asked `k` times,
    each time seeing the batch's earlier proposals as experiments in flight (status `running`)
    so that it moves on, and a repeat or a training request ends the batch, as does
    `SearchExhausted` after the first (the batch runs what it has; the next batch's first
    `propose` raises it again, if nothing it learnt opened new moves).
    """
    if not log.experiments:  # the baseline runs alone
        return [stock_agent()]
    batch = getattr(researcher, "propose_batch", None)
    if batch is not None:
        return list(batch(log, notes, k))[: max(k, 1)]
    proposals: list[Proposal] = []
    seen: set[str] = set()
    view = log
    for i in range(max(k, 1)):
        try:
            proposal = researcher.propose(view, notes)
        except SearchExhausted:
            if not proposals:
                raise
            break
        key = proposal.model_dump_json(exclude={"method"})
        if key in seen or (proposal.training_request and proposals):
            break
        proposals.append(proposal)
        seen.add(key)
        if proposal.training_request:
            break
        view = with_running(view, [(f"pending-{i + 1}", proposal)])
    return proposals


def with_running(log: LogView, proposals: list[tuple[str, Proposal]]) -> LogView:
    """`log` with these proposals as experiments in flight (status `running`, their agents the
    patches over the best), so that a researcher asked again moves on from them."""
    view = log.model_copy(deep=True)
    view.experiments += [
        ExperimentSummary(
            id=exp_id,
            status="running",
            lever_class=proposal.lever_class,
            hypothesis=proposal.hypothesis,
            agent=apply_patch(view.best_agent, proposal.agent_patch),
        )
        for exp_id, proposal in proposals
    ]
    return view


@dataclass(frozen=True)
class ResearchKit:
    """What a tool-using researcher gets from the workspace for one research turn: the tools
    (`orchestrator.researchers.claude.tools.ResearchTools`), its tool-round limit, and the
    run's budget check (why to stop, given the turn's cost so far; '' to go on)."""

    tools: Any
    max_rounds: int = 12
    over_budget: Callable[[float], str] = lambda cost: ""


@runtime_checkable
class UsesWorkspace(Protocol):
    """A researcher that works with the workspace's research tools; bound before `propose`."""

    def bind(self, kit: ResearchKit) -> None: ...


def apply_patch(agent: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Shallow merge of a proposal's agent patch over the best agent (tables merge one deep)."""
    merged = dict(agent)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged
