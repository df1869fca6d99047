"""What crosses the driver graph's nodes: `LoopState`, with the experiments planned and run as
typed models (`Planned`, `ExperimentRun`, `Outcome`) that the checkpointer stores and loads
back as models."""

from __future__ import annotations

from typing import Any, TypedDict

from pydantic import BaseModel, ConfigDict, Field

from levers.validate import ValidationReport
from orchestrator.pool.jobs import GateRun
from orchestrator.researchers.base import Proposal
from ruler.records import GateResult
from runlog.records import OutputRow, Status


class Outcome(BaseModel):
    """What running an experiment's gates came to; `record` turns it into the run log's record."""

    model_config = ConfigDict(extra="forbid")

    status: Status
    decision: str = ""
    failure: str = ""
    method: str = ""  # the actual change to the agent (see orchestrator.change)
    agent: dict[str, Any] = Field(default_factory=dict)
    gates: list[GateResult] = Field(default_factory=list)
    outputs: list[OutputRow] = Field(default_factory=list)
    trace: list[dict[str, Any]] = Field(default_factory=list)
    cost_usd: float = 0.0
    model_seconds: float = 0.0  # the pipeline's wall time, judging excluded
    judge_seconds: float = 0.0
    model_ids: dict[str, str] = Field(default_factory=dict)
    adapter_hash: str | None = None
    seconds: float = 0.0

    @classmethod
    def failed(cls, failure: str, **fields: Any) -> Outcome:
        return cls(status="failed", failure=failure, **fields)


class Planned(BaseModel):
    """One experiment, as proposed (and, in supervised mode, approved before it starts)."""

    model_config = ConfigDict(extra="forbid")

    exp_id: str
    proposal: Proposal
    proposal_error: str = ""
    notes_seen: list[str] = Field(default_factory=list)
    approved: bool = False  # the supervisor said yes (only asked for in supervised mode)


class ExperimentRun(BaseModel):
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


class TrainingBudget(BaseModel):
    """What is left of a training grant (`approve --trainings N --minutes M`): a training
    request within it is approved without asking, and logged as approved by the grant."""

    model_config = ConfigDict(extra="forbid")

    trainings_left: int | None = None  # None: no count limit (a grant of minutes only)
    until: float | None = None  # a wall-clock deadline (time.time()), None: none
    granted_by: str = ""  # the approving command's id

    def covers(self, now: float) -> bool:
        left = self.trainings_left is None or self.trainings_left > 0
        return left and (self.until is None or now < self.until)

    def spend(self) -> TrainingBudget:
        left = None if self.trainings_left is None else self.trainings_left - 1
        return self.model_copy(update={"trainings_left": left})


class LoopState(TypedDict, total=False):
    """The graph's checkpointed state (one thread per workspace)."""

    graph_version: int  # GRAPH_VERSION of the code that started the run
    control_offset: int
    notes: list[str]
    stop_requested: bool
    planned: dict[str, Planned]  # every experiment proposed and not yet recorded, by id
    finished: dict[str, ExperimentRun]  # those run, waiting for the ids below to be recorded
    exp_id: str  # the training request's id, while one waits for its approval
    proposal: Proposal | None  # that training request
    approved: bool | None
    training_budget: TrainingBudget | None  # what the supervisor's last grant leaves
    decision_note: str
    adapter: str | None
    commit: str
    stop_reason: str


GRAPH_VERSION = 5  # bump when the state's shape or the node names change

# the model classes the checkpoint may hold, for the serializer's allow-list (ValidationReport
# and Outcome: what a run left by an earlier version holds, loaded only to be refused)
STATE_MODELS: tuple[type[BaseModel], ...] = (
    Proposal,
    Planned,
    ExperimentRun,
    GateRun,
    Outcome,
    TrainingBudget,
    ValidationReport,
)
