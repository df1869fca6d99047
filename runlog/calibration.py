"""The researcher's calibration: its pre-registered predictions against what was observed.

Two predictions: `predicted_delta`, the paired quality gain over the best on the keep gate
(the first gate it ran, where the prediction was made), and `predicted_seconds`, the model's
wall seconds on that gate. The observed seconds are the model's seconds per case generated
over every gate the experiment ran (judging aside), times the keep gate's cases. Experiments
without a prediction or without an observation are left out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from runlog.records import ExperimentRecord


class Calibration(BaseModel):
    """Over `n` experiments: mean absolute error and the share whose sign was right; over
    `timed` experiments: the geometric mean of observed / predicted seconds."""

    model_config = ConfigDict(extra="forbid")

    n: int = 0
    mae: float | None = None
    right_sign: float | None = None
    timed: int = 0
    seconds_ratio: float | None = None

    def line(self) -> str:
        gain = (
            f"{self.n} predictions · mean abs error {self.mae:.3f} · "
            f"sign right {self.right_sign:.0%}"
            if self.n
            else "no predictions with an observed Δ yet"
        )
        if not self.timed:
            return gain
        return f"{gain} · seconds observed/predicted ×{self.seconds_ratio:.2f} ({self.timed})"


def observed_delta(record: ExperimentRecord) -> float | None:
    """The keep gate's paired gain over the best (None when it was not compared)."""
    first = record.gates[0] if record.gates else None
    return first.comparison.delta if first and first.comparison else None


def seconds_per_case(record: ExperimentRecord) -> float | None:
    """The model's wall seconds per case generated over the experiment's gates (judging aside;
    a confirm gate reuses the keep gate's outputs, so each case counts once); None when nothing
    was timed."""
    cases = len({case for g in record.gates for case in g.per_case_quality})
    seconds = record.node_seconds.get("model", 0.0)
    return seconds / cases if cases and seconds > 0 else None


def observed_seconds(record: ExperimentRecord) -> float | None:
    """The model's seconds for the keep gate's cases (None when nothing was timed)."""
    per_case = seconds_per_case(record)
    return per_case * len(record.gates[0].per_case_quality) if per_case else None


def calibration(records: Iterable[ExperimentRecord]) -> Calibration:
    records = list(records)
    pairs = [
        (r.predicted_delta, seen)
        for r in records
        if r.predicted_delta is not None and (seen := observed_delta(r)) is not None
    ]
    ratios = [
        math.log(seen / r.predicted_seconds)
        for r in records
        if r.predicted_seconds and (seen := observed_seconds(r))
    ]
    timing = {
        "timed": len(ratios),
        "seconds_ratio": math.exp(sum(ratios) / len(ratios)) if ratios else None,
    }
    if not pairs:
        return Calibration(**timing)
    errors = [abs(p - o) for p, o in pairs]
    signs = [(p > 0) == (o > 0) for p, o in pairs]
    return Calibration(
        n=len(pairs), mae=sum(errors) / len(pairs), right_sign=sum(signs) / len(pairs), **timing
    )
