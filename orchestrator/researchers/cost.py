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
predicts. Any other researcher's proposal (Optuna's trials, random draws, Claude's) gets its
seconds from `predict_seconds`: a log-linear fit of the seconds per case on which levers an
agent turns on, each lever's factor drawn toward its prior (the cost of the move that turns it
on) as one observation would.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from levers.config import BASELINE_AGENT
from orchestrator.researchers.base import LogView
from orchestrator.researchers.moves import Move, lineage, touches

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


def lever_priors(moves: list[Move]) -> dict[str, float]:
    """Each lever's prior cost factor: the cost of the cheapest move that turns it on alone on
    the stock agent (the prompt and its phrasings are not counted: every agent has one)."""
    stock = BASELINE_AGENT.model_dump(mode="json")
    priors: dict[str, float] = {}
    for move in moves:
        changed = touches(move, stock) - {"prompt"}
        if len(changed) == 1:
            name = changed.pop()
            priors[name] = min(priors.get(name, move.cost), move.cost)
    return priors


def enabled_levers(agent: dict[str, Any]) -> set[str]:
    """The levers an agent turns on, the prompt slot aside."""
    return {
        spec["name"]
        for spec in agent.get("levers", [])
        if spec.get("enabled", True) and not spec["name"].startswith("prompt")
    }


def predict_seconds(
    log: LogView, agent: dict[str, Any], gate_cases: int, priors: dict[str, float]
) -> float | None:
    """Predicted keep-gate model seconds of any agent, None before any experiment was timed.

    log(seconds per case) = base + the sum of the factors (as logarithms) of the levers it turns
    on, fitted by least squares over the timed experiments, each factor drawn toward its prior
    (1 for a lever no move turns on) with the weight of one observation."""
    timed = [e for e in log.experiments if e.agent and e.seconds_per_case]
    if not timed:
        return None
    names = sorted(set().union(*(enabled_levers(e.agent) for e in timed), enabled_levers(agent)))
    column = {name: i + 1 for i, name in enumerate(names)}
    rows, targets = [], []
    for exp in timed:
        row = np.zeros(len(names) + 1)
        row[0] = 1.0
        row[[column[n] for n in enabled_levers(exp.agent)]] = 1.0
        rows.append(row)
        targets.append(math.log(max(exp.seconds_per_case or 0.0, FLOOR_SECONDS)))
    for name in names:  # the priors, as observations of each factor alone
        row = np.zeros(len(names) + 1)
        row[column[name]] = math.sqrt(PRIOR_WEIGHT)
        rows.append(row)
        targets.append(math.sqrt(PRIOR_WEIGHT) * math.log(priors.get(name, 1.0)))
    fit = np.linalg.lstsq(np.array(rows), np.array(targets), rcond=None)[0]
    wanted = [0, *(column[n] for n in enabled_levers(agent))]
    return float(math.exp(fit[wanted].sum())) * gate_cases
