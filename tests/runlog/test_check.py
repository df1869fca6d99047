"""`--check` expressions: a small safe grammar over a gate result's numbers."""

from __future__ import annotations

import pytest

from runlog.check import CheckError, check_expression, check_values
from tests.runlog.conftest import gate_result


@pytest.mark.parametrize(
    ("expr", "holds"),
    [
        ("coverage>=3 and quality>0.4", True),
        ("coverage>3 or quality>0.5", False),
        ("not (losses > 5)", True),
        ("quality - 0.1 >= 0.35", True),
        ("wins + ties/2 >= 4.5", True),
        ("low > 0.4 and high < 0.5", False),
        ("non-redundancy == 3.5", True),
        ("non_redundancy*2 == 7", True),
        ("-quality < -0.4", True),
        ("cases == 10", True),
    ],
)
def test_expressions(expr: str, holds: bool) -> None:
    assert check_expression(expr, gate_result(0.45, coverage=3.0)) is holds


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("quality", "not a condition"),
        ("quality >", "ends too early"),
        ("0.3 < quality < 0.5", "chain comparisons"),
        ("__import__('os') > 0", "cannot read|unknown name"),
        ("recall > 3", "unknown name 'recall'"),
        ("quality > 0.4 junk", "unexpected"),
        ("delta > 0", "has no 'delta'"),
        ("quality / 0 > 1", "division by zero"),
    ],
)
def test_errors_are_one_line(expr: str, message: str) -> None:
    with pytest.raises(CheckError, match=message) as info:
        check_expression(expr, gate_result(0.45))
    assert "\n" not in str(info.value)


def test_values_cover_the_documented_names() -> None:
    values = check_values(gate_result(0.45))
    assert {"quality", "coverage", "wins", "ties", "losses", "low", "high"} <= set(values)
