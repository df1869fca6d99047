"""The researcher's calibration: predicted vs observed Δ on the keep gate."""

from __future__ import annotations

import pytest

from ruler.records import Comparison, GateResult
from runlog.calibration import Calibration, calibration, observed_delta
from runlog.records import ExperimentRecord


def record(exp: str, predicted: float | None, observed: float | None) -> ExperimentRecord:
    comparison = None
    if observed is not None:
        comparison = Comparison.model_construct(delta=observed)
    gate = GateResult.model_construct(gate="dev-10", comparison=comparison)
    return ExperimentRecord.model_construct(
        id=exp, hypothesis="h", status="discarded", gates=[gate], predicted_delta=predicted
    )


def test_mean_absolute_error_and_share_with_the_right_sign():
    records = [
        record("001", None, 0.05),  # no prediction: left out
        record("002", 0.02, 0.01),
        record("003", 0.03, -0.01),
        record("004", 0.01, None),  # not compared: left out
    ]
    cal = calibration(records)
    assert cal.n == 2
    assert cal.mae == pytest.approx((0.01 + 0.04) / 2)
    assert cal.right_sign == 0.5
    assert cal.line() == "2 predictions · mean abs error 0.025 · sign right 50%"
    assert observed_delta(records[1]) == 0.01


def test_no_predictions_yet():
    assert calibration([]) == Calibration()
    assert calibration([]).line() == "no predictions with an observed Δ yet"
