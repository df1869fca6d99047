"""`ResultRow`: one gate result flattened for a table row, a JSON line or a results.tsv line.

The views (`log`, `show`), the reference tables and results.tsv all build their result cells
from it, so a reader (the TUI, a script) sees the same keys everywhere; `format_number` prints
any of its numbers (the CLI, the dashboard, the TUI).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from ruler.records import GateResult, JudgeMode

MISSING = "–"  # an en dash: the cell of a number that is not there


def format_number(value: float | None, digits: int = 3, *, signed: bool = False) -> str:
    """A number for a table cell to `digits` places (`+` shown when `signed`), or `MISSING`."""
    if value is None:
        return MISSING
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


class ResultRow(BaseModel):
    """The cells of one gate result: gate, mode, judge, quality with its 95% interval, the
    change against the best it was paired with, the dimension means and W/T/L."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    gate: str
    mode: JudgeMode
    judge: str
    quality: float
    low: float
    high: float
    delta: float | None
    dimensions: dict[str, float]
    wins: int
    ties: int
    losses: int
    cases: int

    @classmethod
    def from_gate(cls, result: GateResult) -> ResultRow:
        return cls(
            gate=result.gate,
            mode=result.mode,
            judge=result.judge_id,
            quality=result.quality,
            low=result.interval.low,
            high=result.interval.high,
            delta=result.comparison.delta if result.comparison else None,
            dimensions=dict(result.dimension_means),
            wins=result.wins,
            ties=result.ties,
            losses=result.losses,
            cases=result.wins + result.ties + result.losses,
        )

    @classmethod
    def cells(cls, result: GateResult | None) -> dict[str, Any]:
        """The row as a dict; for no result, every cell None (dimensions empty)."""
        if result is None:
            return {**dict.fromkeys(cls.model_fields), "dimensions": {}}
        return cls.from_gate(result).model_dump()

    def tsv_cells(self) -> dict[str, str]:
        """The results.tsv cells: quality to 4 places, dimension means to 2, W/T/L."""
        cells = {"gate": self.gate, "quality": f"{self.quality:.4f}"}
        cells.update({d: f"{v:.2f}" for d, v in self.dimensions.items()})
        cells.update(wins=str(self.wins), ties=str(self.ties), losses=str(self.losses))
        return cells
