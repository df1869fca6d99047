"""The run log's records: experiments, per-case outputs, events and reference analyses.

Every record is a pydantic model (extra="forbid") written as JSON or JSONL under `runlog/`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from levers.lever import ExperimentClass
from ruler.records import GateResult, Verdict

Status = Literal["kept", "discarded", "failed"]
EventKind = Literal[
    "note",
    "pause",
    "resume",
    "stop",
    "approval_request",
    "approved",
    "denied",
    "refused",  # the graph refused a proposal (training a model that cannot train here)
    "training_started",
    "training_progress",
    "training_done",
    "experiment",
    "error",
    "recheck",
]


def now() -> datetime:
    return datetime.now(UTC)


def experiment_id(value: int | str) -> str:
    """Normalize 7, "7", "007", "exp007" or "exp/007" to the record id "007"."""
    text = str(value).strip()
    for prefix in ("exp/", "exp"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    if not text.isdigit():
        raise ValueError(f"not an experiment id: {value!r} (use NNN, expNNN or exp/NNN)")
    return f"{int(text):03d}"


class LeverFile(BaseModel):
    """One file of the agent's lever plugins, named relative to `agent/`, with its sha256."""

    model_config = ConfigDict(extra="forbid")

    name: str
    sha256: str


class ExperimentRecord(BaseModel):
    """One experiment: what was tried, on which agent, how it scored, and what became of it."""

    model_config = ConfigDict(extra="forbid")

    id: str
    parent: str | None = None
    hypothesis: str
    method: str = ""
    lever_class: ExperimentClass = "other"
    agent: dict[str, Any] = Field(default_factory=dict)
    lever_files: list[LeverFile] = Field(default_factory=list)
    gates: list[GateResult] = Field(default_factory=list)
    outputs: str = ""
    trace: list[dict[str, Any]] = Field(default_factory=list)
    cost_usd: float = 0.0
    wall_seconds: float = 0.0
    node_seconds: dict[str, float] = Field(default_factory=dict)
    status: Status
    failure: str = ""
    decision: str = ""
    notes_seen: list[str] = Field(default_factory=list)
    started_at: datetime = Field(default_factory=now)
    finished_at: datetime = Field(default_factory=now)
    model_ids: dict[str, str] = Field(default_factory=dict)
    ruler_hash: str = ""
    adapter_hash: str | None = None
    sandbox: str = ""  # what confined the lever code (levers.sandbox.describe); "" before it
    predicted_delta: float | None = None  # the researcher's pre-registered Δ on the keep gate
    predicted_seconds: float | None = None  # ... and the model seconds of that gate

    @field_validator("id", "parent")
    @classmethod
    def _normalize_id(cls, value: str | None) -> str | None:
        return None if value is None else experiment_id(value)

    @property
    def name(self) -> str:
        return f"exp{self.id}"

    @property
    def tag(self) -> str:
        return f"exp/{self.id}"

    @property
    def result(self) -> GateResult | None:
        """The deciding gate result: the last gate run (the decisive gate comes after dev)."""
        return self.gates[-1] if self.gates else None

    @property
    def quality(self) -> float | None:
        return self.result.quality if self.result else None


class OutputRow(BaseModel):
    """One case of one experiment in `runlog/outputs/NNN.jsonl`."""

    model_config = ConfigDict(extra="forbid")

    case_id: str
    text: str
    plan: dict[str, Any] = Field(default_factory=dict)
    problems: list[str] = Field(default_factory=list)
    failed: bool = False
    error: str = ""
    verdicts: list[Verdict] = Field(default_factory=list)
    trace: list[dict[str, Any]] = Field(default_factory=list)


class Event(BaseModel):
    """A line of `runlog/events.jsonl`: supervisor notes, approvals, training runs, errors."""

    model_config = ConfigDict(extra="forbid")

    time: datetime = Field(default_factory=now)
    kind: EventKind
    payload: dict[str, Any] = Field(default_factory=dict)


class ReferenceRecord(BaseModel):
    """A reference analysis kept out of the experiment line: `runlog/reference/<id>.json`.

    Examples: a cloud model as candidate (the ceiling), stored outputs re-judged coverage-blind.
    """

    model_config = ConfigDict(extra="forbid")

    id: str
    kind: Literal["ceiling", "rejudge", "gold", "other"] = "other"
    title: str
    description: str = ""
    source_experiment: str | None = None
    gates: list[GateResult] = Field(default_factory=list)
    model_ids: dict[str, str] = Field(default_factory=dict)
    trace: list[dict[str, Any]] = Field(default_factory=list)
    outputs: str = ""
    created_at: datetime = Field(default_factory=now)

    @property
    def result(self) -> GateResult | None:
        return self.gates[-1] if self.gates else None
