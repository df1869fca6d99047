"""The sealed holdout: what of the ruler a researcher may see.

The decisive gate's cases outside the keep gate (full-30 minus dev-10: twenty cases) reach the
researcher only as aggregates (quality, dimension means, W/T/L counts). No gold question of any
ruler case reaches it at all. `Holdout.visible(case_id)` says which cases may be shown one by
one; `Holdout.seal(text)` is the last guard every tool result passes through: any sealed task
text and any gold question left in it is replaced by `[sealed]`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ruler.loader import Ruler

SEALED = "[sealed]"


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
        phrases = {q for case in ruler.cases.values() for q in case.gold.questions}
        phrases |= {ruler.cases[cid].task for cid in sealed}
        phrases |= {ruler.cases[cid].gold.title for cid in every if ruler.cases[cid].gold.title}
        tasks = {cid: ruler.cases[cid].task for cid in visible}
        return cls(visible, sealed, _pattern(phrases), tasks)

    def visible(self, case_id: str) -> bool:
        return case_id in self.visible_ids

    def seal(self, text: str) -> str:
        """`text` with every sealed task and every gold question replaced by `[sealed]`."""
        return self.pattern.sub(SEALED, text) if self.pattern else text
