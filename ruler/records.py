"""The ruler's records: cases, verdicts and gate results (pydantic, extra='forbid')."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ruler.plan import Plan

DIMENSIONS: tuple[str, ...] = (
    "atomicity",
    "specificity",
    "coverage",
    "naturalness",
    "non_redundancy",
)
JudgeMode = Literal["standard", "coverage-blind"]
Outcome = Literal["W", "T", "L"]


def dimensions_for(mode: JudgeMode, names: tuple[str, ...] = DIMENSIONS) -> tuple[str, ...]:
    """The dimensions a mode scores, of the planner's (default) or of a feature's rubric: the
    coverage-blind mode leaves out a dimension named "coverage"."""
    return tuple(d for d in names if mode == "standard" or d != "coverage")


class Case(BaseModel):
    """One ruler case. `task` is the case input (a feature folder's "input" is read into it);
    `gold` is a Plan for the planner and the feature's JSON answer (a dict) otherwise."""

    model_config = ConfigDict(extra="forbid")

    id: str
    task: str
    gold: Plan | dict[str, Any] | list[Any] = Field(union_mode="left_to_right")
    critical: str = ""
    critical_question: int | None = None
    notes: str = ""

    @model_validator(mode="before")
    @classmethod
    def _input_is_task(cls, data: Any) -> Any:
        if isinstance(data, dict) and "input" in data and "task" not in data:
            data = {("task" if k == "input" else k): v for k, v in data.items()}
        return data

    @property
    def gold_data(self) -> Any:
        """The gold answer as plain JSON data, whichever feature it belongs to."""
        return self.gold.model_dump() if isinstance(self.gold, Plan) else self.gold


class Verdict(BaseModel):
    """The judge's output for one case: 1-5 per dimension and W/T/L from the candidate's side."""

    model_config = ConfigDict(extra="forbid")

    case_id: str
    judge_id: str
    mode: JudgeMode = "standard"
    scores: dict[str, int]
    outcome: Outcome
    rationale: str = ""
    position_consistent: bool = True
    cost_usd: float = 0.0
    seconds: float = 0.0
    cached: bool = False


class Interval(BaseModel):
    model_config = ConfigDict(extra="forbid")

    low: float
    high: float
    level: float = 0.95


class Comparison(BaseModel):
    """A gate result against a baseline on the same cases: paired, case by case."""

    model_config = ConfigDict(extra="forbid")

    baseline_quality: float
    delta: float
    interval: Interval
    wins: int
    losses: int
    ties: int
    sign_test_p: float
    per_case_delta: dict[str, float] = Field(default_factory=dict)


class GateResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gate: str
    mode: JudgeMode = "standard"
    judge_id: str
    ruler_hash: str
    verdicts: list[Verdict]
    dimension_means: dict[str, float]
    wins: int
    ties: int
    losses: int
    quality: float
    interval: Interval
    per_case_quality: dict[str, float] = Field(default_factory=dict)
    judge_seconds: float = 0.0
    judge_cost_usd: float = 0.0
    judge_calls: int = 0
    comparison: Comparison | None = None
    stopped: str = ""  # why the gate stopped before its last case ('' : it ran them all)


class PerturbationResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    dimension: str
    passed: int
    total: int
    dimension_lower: int
    pairwise_not_won: int
    failures: list[str]

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0


class SanityReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    judge_id: str
    mode: JudgeMode
    results: list[PerturbationResult]
    seconds: float = 0.0
    # a feature's suite (ruler.feature_sanity): variant kind -> dimension -> share scored lower
    lower_rates: dict[str, dict[str, float]] = {}
