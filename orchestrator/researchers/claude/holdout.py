"""The sealed holdout: what of the ruler a researcher may see.

The decisive gate's cases outside the keep gate (full-30 minus dev-10: twenty cases) reach the
researcher only as aggregates (quality, dimension means, W/T/L counts). No gold question of any
ruler case reaches it at all. `Holdout.visible(case_id)` says which cases may be shown one by
one; `Holdout.seal(text)` is the last guard every tool result passes through: any sealed task
text and any gold question left in it is replaced by `[sealed]`. For a feature other than the
planner, every string of every gold answer (its summary, its points' details...) is sealed the
same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ruler.loader import Ruler
from ruler.plan import Plan

SEALED = "[sealed]"


def gold_strings(gold: Any) -> list[str]:
    """Every string of a gold answer: a plan's title and questions, or any feature's JSON."""
    if isinstance(gold, Plan):
        return [gold.title, *gold.questions]
    if isinstance(gold, str):
        return [gold]
    if isinstance(gold, dict):
        return [s for value in gold.values() for s in gold_strings(value)]
    if isinstance(gold, list):
        return [s for value in gold for s in gold_strings(value)]
    return []


def _pattern(phrases: set[str]) -> re.Pattern[str] | None:
    """One case-insensitive pattern over the phrases, longest first (whitespace-tolerant)."""
    words = sorted((p.strip() for p in phrases if len(p.strip()) >= 8), key=len, reverse=True)
    if not words:
        return None
    alternatives = [r"\s+".join(re.escape(w) for w in phrase.split()) for phrase in words]
    return re.compile("|".join(alternatives), re.IGNORECASE)


@dataclass(frozen=True)
class Holdout:
    """The split between cases shown one by one (the keep gate's) and sealed ones."""

    visible_ids: frozenset[str]
    sealed_ids: frozenset[str]
    pattern: re.Pattern[str] | None
    tasks: dict[str, str] = field(default_factory=dict)  # the visible cases' inputs

    @classmethod
    def of(cls, ruler: Ruler, keep_gate: str, decisive_gate: str | None) -> Holdout:
        visible = frozenset(ruler.splits.get(keep_gate, []))
        every = set(ruler.cases)
        sealed = frozenset(every - visible) if decisive_gate else frozenset()
        phrases = {text for case in ruler.cases.values() for text in gold_strings(case.gold)}
        phrases |= {ruler.cases[cid].task for cid in sealed}
        tasks = {cid: ruler.cases[cid].task for cid in visible}
        return cls(visible, sealed, _pattern(phrases), tasks)

    def visible(self, case_id: str) -> bool:
        return case_id in self.visible_ids

    def seal(self, text: str) -> str:
        """`text` with every sealed task and every gold question replaced by `[sealed]`."""
        return self.pattern.sub(SEALED, text) if self.pattern else text
