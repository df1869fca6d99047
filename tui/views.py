"""The records the TUI shows: plain, frozen view models that widgets render and nothing else.

A `Source` (see `tui.source`) fills them; widgets never read the workspace themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DIMENSION_LABELS: dict[str, str] = {
    "atomicity": "atom",
    "specificity": "spec",
    "coverage": "cov",
    "naturalness": "nat",
    "non_redundancy": "nonred",
}

REFERENCE_PREFIX = "ref:"


@dataclass(frozen=True)
class ExperimentRow:
    """One line of the experiments table (a results.tsv row plus its Δ vs parent)."""

    id: str
    status: str
    lever_class: str = ""
    gate: str = ""
    quality: float | None = None
    delta: float | None = None
    dimensions: dict[str, float | None] = field(default_factory=dict)
    wins: int = 0
    ties: int = 0
    losses: int = 0
    description: str = ""
    reference: bool = False


@dataclass(frozen=True)
class Summary:
    """The header's numbers: the workspace, who researches, the best so far, counts, cost."""

    workspace: str
    researcher: str = ""
    best_id: str = ""
    best_quality: float | None = None
    best_interval: tuple[float, float] | None = None
    kept: int = 0
    discarded: int = 0
    failed: int = 0
    cost_usd: float = 0.0
    recheck: str = ""  # the best's re-measure (winner's curse), runlog.reliability.recheck_text
    false_keeps: float | None = None  # expected false keeps so far under the [keep] screen
    closeness: str = ""  # how close to the gold and the cloud, runlog.reference.headline


@dataclass(frozen=True)
class CaseOutcome:
    case_id: str
    outcome: str
    delta: float | None = None


@dataclass(frozen=True)
class DetailTable:
    """One table of a reference record, its cells already text: the detail pane lays it out."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...] = ()
    numeric: tuple[int, ...] = ()
    """Indexes of the columns that hold numbers (aligned right). A header may span two lines."""
    highlight: tuple[int, ...] = ()
    """Indexes of the rows that are the selected record itself."""


@dataclass(frozen=True)
class ExperimentDetail:
    """Everything the detail pane shows for one experiment (or a reference record)."""

    id: str
    status: str = ""
    hypothesis: str = ""
    method: str = ""
    lever_class: str = ""
    gate: str = ""
    parent: str = ""
    quality: float | None = None
    interval: tuple[float, float] | None = None
    delta: float | None = None
    dimensions: dict[str, float | None] = field(default_factory=dict)
    wins: int = 0
    ties: int = 0
    losses: int = 0
    cases: tuple[CaseOutcome, ...] = ()
    diff: str = ""
    diagram: str = ""
    failure: str = ""
    cost_usd: float = 0.0
    seconds: float = 0.0
    predicted_delta: float | None = None  # the researcher's pre-registered Δ on the keep gate
    observed_delta: float | None = None  # the keep gate's paired Δ over the best
    predicted_seconds: float | None = None  # ... and its model seconds on the keep gate
    observed_seconds: float | None = None
    reference: bool = False
    commit: str = ""
    tag: str = ""
    tables: tuple[DetailTable, ...] = ()
    """Reference records: the tables of its kind (ceiling, re-judge); empty for experiments."""


@dataclass(frozen=True)
class BisectOutcome:
    first_bad: str
    hypothesis: str = ""
    message: str = ""


@dataclass(frozen=True)
class TrainingRequest:
    """A pending training request as the approval dialog shows it.

    `trainable_here` is False when this machine cannot train the candidate model (the loop's
    `training_estimate` says why in `reason`): the dialog then refuses to approve.
    """

    id: str
    kind: str = ""
    rationale: str = ""
    model: str = ""
    data_size: int | None = None
    steps: int | None = None
    estimated_seconds: float | None = None
    experiments: tuple[str, ...] = ()
    trainable_here: bool = True
    reason: str = ""

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> TrainingRequest:
        """From `LiveStatus.pending_request` (the graph's interrupt payload, a plain dict).

        A payload without `trainable_here` (an older loop) counts as trainable."""
        seconds = payload.get("estimated_seconds")
        return cls(
            id=str(payload.get("id", "")),
            kind=str(payload.get("kind") or ""),
            rationale=str(payload.get("rationale") or ""),
            model=str(payload.get("model") or ""),
            data_size=_int_or_none(payload.get("data_size")),
            steps=_int_or_none(payload.get("steps")),
            estimated_seconds=float(seconds) if isinstance(seconds, int | float) else None,
            experiments=tuple(str(e) for e in payload.get("experiments") or ()),
            trainable_here=bool(payload.get("trainable_here", True)),
            reason=str(payload.get("note") or payload.get("reason") or ""),
        )


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
