"""Expected gain per second: what a move should buy and what it should cost, learned from the log.

Every experiment's summary carries its seconds per case (the model's wall time over its gates,
the judge's aside, per case generated: `runlog.calibration.seconds_per_case`). A move's **cost
factor** is how much it multiplied the seconds per case of the best it was applied to: learned
where the log ran it, its prior (`Move.cost`, from its calls and prompt length) where not;
several runs of it average as logarithms, since factors multiply. Its **expected gain** is its
prior (`Move.gain`, the single-move gains measured on SmolLM2) averaged with the paired gains it
earned on its keep gate wherever it was tried, the prior counting as one observation: a move
that lost once is tried later, a move that lost twice on two bests, later still.

The heuristic orders its moves by expected gain per predicted second and pre-registers both
on the proposal (`predicted_delta`, `predicted_seconds`), so `status` shows how well it
predicts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from orchestrator.researchers.base import LogView
from orchestrator.researchers.moves import Move, lineage

PRIOR_WEIGHT = 1.0  # the prior gain counts as this many observations
FLOOR_SECONDS = 0.05  # per case: no move is predicted free (a cache hit is not a cost)


@dataclass(frozen=True)
class Estimate:
    gain: float  # expected paired Δ on the keep gate
    factor: float  # expected seconds per case, relative to the best's
    seconds: float | None  # predicted seconds on the keep gate (None: the best's not measured)

    @property
    def value(self) -> float:
        """Expected gain per second (per unit of the best's time when that is not measured)."""
        return self.gain / (self.seconds or self.factor)


def estimates(log: LogView, moves: list[Move], gate_cases: int) -> dict[str, Estimate]:
    """Each move's expected gain and predicted seconds on the best, keyed by hypothesis."""
    gains: dict[str, list[float]] = {}
    factors: dict[str, list[float]] = {}
    for exp, move, parent in lineage(log, moves):
        if exp.delta is not None:
            gains.setdefault(move.hypothesis, []).append(exp.delta)
        if exp.seconds_per_case and parent.seconds_per_case:
            ratio = max(exp.seconds_per_case, FLOOR_SECONDS) / max(
                parent.seconds_per_case, FLOOR_SECONDS
            )
            factors.setdefault(move.hypothesis, []).append(math.log(ratio))
    best = next((e for e in log.experiments if e.id == log.best_id), None)
    per_case = max(best.seconds_per_case, FLOOR_SECONDS) if best and best.seconds_per_case else None
    out: dict[str, Estimate] = {}
    for move in moves:
        seen = gains.get(move.hypothesis, [])
        gain = (move.gain * PRIOR_WEIGHT + sum(seen)) / (PRIOR_WEIGHT + len(seen))
        logs = factors.get(move.hypothesis)
        factor = math.exp(sum(logs) / len(logs)) if logs else move.cost
        seconds = per_case * factor * gate_cases if per_case else None
        out[move.hypothesis] = Estimate(gain, factor, seconds)
    return out
