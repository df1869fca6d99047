"""The ruler's records: cases, verdicts and gate results (pydantic, extra='forbid')."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

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


def dimensions_for(mode: JudgeMode) -> tuple[str, ...]:
    return tuple(d for d in DIMENSIONS if mode == "standard" or d != "coverage")


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    task: str
    gold: Plan
    critical: str = ""
    critical_question: int | None = None
    notes: str = ""


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
