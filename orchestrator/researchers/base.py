"""What every researcher reads (a view of the run log) and answers (a proposal)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

TrainingKind = Literal["sft", "orpo"]


class TrainingRequest(BaseModel):
    """A researcher's ask for the manual training track; the supervisor approves or denies."""

    model_config = ConfigDict(extra="forbid")

    kind: TrainingKind = "sft"
    pairs: Literal["style", "on-policy"] | None = None
    rationale: str
    steps: int = Field(60, ge=1)
    experiments: list[str] = Field(default_factory=list)


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


class LogView(BaseModel):
    """The run log as a researcher sees it: every experiment so far and the current best."""

    model_config = ConfigDict(extra="forbid")

    experiments: list[ExperimentSummary] = Field(default_factory=list)
    best_id: str | None = None
    best_agent: dict[str, Any] = Field(default_factory=dict)
    best_quality: float | None = None
    since_last_kept: int = 0
    training_requests: int = 0
    notes_history: list[str] = Field(default_factory=list)
    adapters: list[dict[str, Any]] = Field(default_factory=list)
    levers: dict[str, dict[str, Any]] = Field(default_factory=dict)
    results_tsv: str = ""
    trainable_here: bool | None = None  # whether the candidate's weights can be trained here
    trainable_reason: str = ""
    feedback: list[str] = Field(default_factory=list)  # why the graph sent a proposal back


class Researcher(Protocol):
    name: str

    def propose(self, log: LogView, notes: list[str]) -> Proposal: ...

    def repair(self, proposal: Proposal, report: str) -> Proposal | None:
        """One chance to fix a lever module that failed validation; None gives up."""
        ...


@dataclass(frozen=True)
class ResearchKit:
    """What a tool-using researcher gets from the workspace for one research turn: the tools
    (`orchestrator.research.tools.ResearchTools`), its tool-round limit, and the run's budget
    check (why to stop, given the turn's cost so far; '' to go on)."""

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
