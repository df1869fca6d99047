"""`RandomResearcher`: uniform random search over the same derived lever space as Optuna's.

The benchmark's control: each proposal is one uniform draw from `space.sample_agent` (seeded
by the experiment count, so a resumed run draws what it would have), redrawn while the agent
has already run. Baseline, adapters and the plateau's training request are the heuristic's.
"""

from __future__ import annotations

import random
from typing import Any

from orchestrator.researchers.base import LogView, Proposal, apply_patch
from orchestrator.researchers.heuristic import HeuristicResearcher, canonical, preferences
from orchestrator.researchers.space import (
    Constraint,
    SearchesLeverSpace,
    SearchSpace,
    required_classes,
    sample_agent,
)


class Uniform:
    """A `Suggest` drawing every parameter uniformly."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def suggest_float(self, name: str, low: float, high: float) -> float:
        return round(self.rng.uniform(low, high), 4)

    def suggest_int(self, name: str, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def suggest_categorical(self, name: str, choices: Any) -> Any:
        return self.rng.choice(list(choices))


class RandomResearcher(SearchesLeverSpace):
    name = "random"

    def __init__(
        self,
        *,
        seed: int = 0,
        plateau_after: int = 4,
        space: SearchSpace | None = None,
        max_draws: int = 200,
    ) -> None:
        self.seed = seed
        self.max_draws = max_draws
        self.track = HeuristicResearcher(plateau_after)
        self._space = space

    def propose(self, log: LogView, notes: list[str]) -> Proposal:
        if not log.experiments:
            return self.track.propose(log, notes)  # the baseline
        self.fit_feature(log.feature.name)
        if proposal := self.track.untried_adapter(log):
            return proposal
        if log.since_last_kept >= self.track.plateau_after and self.track.may_request(log):
            return self.track.request_training(log)
        focus, avoid = preferences([*log.notes_history, *notes])
        required = required_classes(self.space)
        constraint = Constraint.from_preferences(self.space, focus, avoid, required)
        tried = {canonical(e.agent) for e in log.experiments if e.agent}
        draw = Uniform(random.Random(f"{self.seed}:{len(log.experiments)}"))
        for _ in range(self.max_draws):
            patch = sample_agent(self.space, draw, log.best_agent, constraint)
            if canonical(apply_patch(log.best_agent, patch)) not in tried:
                on = " + ".join(s["name"] for s in patch["levers"]) or "none"
                return Proposal(
                    hypothesis=f"Random draw: levers {on}",
                    method="Uniform random search over the lever space; run dev-10, then "
                    "full-30 if promising.",
                    lever_class="other",
                    agent_patch=patch,
                )
        return self.track.request_training(log)

    def repair(self, proposal: Proposal, report: str) -> Proposal | None:
        return None  # it writes no lever files
