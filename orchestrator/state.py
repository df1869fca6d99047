"""What crosses the researcher graph's nodes: `LoopState`, with typed `Proposal`,
`ValidationReport` and `Outcome` values that the checkpointer stores and loads back as models.
"""

from __future__ import annotations

from typing import Any, TypedDict

from pydantic import BaseModel, ConfigDict, Field

from levers.validate import ValidationReport
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


class LoopState(TypedDict, total=False):
    """The graph's checkpointed state (one thread per workspace)."""

    graph_version: int  # GRAPH_VERSION of the code that started the run
    control_offset: int
    notes: list[str]
    stop_requested: bool
    exp_id: str
    proposal: Proposal | None
    proposal_error: str
    notes_seen: list[str]
    lever_path: str | None
    validation: ValidationReport | None
    outcome: Outcome | None
    approved: bool | None
    decision_note: str
    adapter: str | None
    commit: str
    stop_reason: str
    feedback: list[str]  # why check_proposal sent the last proposal back to the researcher
    retries: int  # proposals sent back for this experiment so far


GRAPH_VERSION = 4  # bump when the state's shape or the node names change

# the model classes the checkpoint may hold, for the serializer's allow-list
STATE_MODELS: tuple[type[BaseModel], ...] = (Proposal, ValidationReport, Outcome)
