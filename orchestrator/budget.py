"""A run's budget: experiments, wall-clock minutes, USD."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol


class Costed(Protocol):
    cost_usd: float


@dataclass
class Budget:
    """A run's budget: experiments, wall-clock minutes, USD (None: no limit).

    It belongs to one invocation of the loop: `autoresearch run --experiments 5` runs five
    experiments now, counting one that a resumed run finishes.
    """

    experiments: int | None = None
    minutes: float | None = None
    usd: float | None = None
    started_at: float = field(default_factory=time.time)
    done: int = 0
    cost_usd: float = 0.0

    def spent(self) -> str:
        """Why the run should stop now, or '' to go on."""
        if self.experiments is not None and self.done >= self.experiments:
            return f"ran {self.done} experiments (budget {self.experiments})"
        if self.minutes is not None and (time.time() - self.started_at) / 60 >= self.minutes:
            return f"wall-clock budget of {self.minutes:g} minutes spent"
        if self.usd is not None and self.cost_usd >= self.usd:
            return f"cost budget of ${self.usd:.2f} spent"
        return ""

    def count(self, outcome: Costed) -> None:
        self.done += 1
        self.cost_usd += outcome.cost_usd
