"""The researcher's calibration: its pre-registered `predicted_delta` against the observed Δ.

The observed Δ of an experiment is the paired quality gain over the best on the keep gate
(the first gate it ran, where the prediction was made); experiments without a prediction or
without a comparison are left out.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from runlog.records import ExperimentRecord


class Calibration(BaseModel):
    """Over `n` experiments: mean absolute error and the share whose sign was right."""

    model_config = ConfigDict(extra="forbid")

    n: int = 0
    mae: float | None = None
    right_sign: float | None = None

    def line(self) -> str:
        if not self.n:
            return "no predictions with an observed Δ yet"
        return (
            f"{self.n} predictions · mean abs error {self.mae:.3f} · "
            f"sign right {self.right_sign:.0%}"
        )


def observed_delta(record: ExperimentRecord) -> float | None:
    """The keep gate's paired gain over the best (None when it was not compared)."""
    first = record.gates[0] if record.gates else None
    return first.comparison.delta if first and first.comparison else None


def calibration(records: Iterable[ExperimentRecord]) -> Calibration:
    pairs = [
        (r.predicted_delta, seen)
        for r in records
        if r.predicted_delta is not None and (seen := observed_delta(r)) is not None
    ]
    if not pairs:
        return Calibration()
    errors = [abs(p - o) for p, o in pairs]
    signs = [(p > 0) == (o > 0) for p, o in pairs]
    return Calibration(
        n=len(pairs), mae=sum(errors) / len(pairs), right_sign=sum(signs) / len(pairs)
    )
