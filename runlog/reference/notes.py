"""Which rubric dimension the judge's notes cite most: a reference analysis of stored verdicts.

The seed report's §5 read the judge's rationales and found coverage "by far the most-cited
dimension". `notes_analysis` counts it: for every experiment's stored outputs (and for the
best), how many verdict rationales name each dimension (its name, or a word the rubric uses for
it). Nothing is judged again and nothing is written to the run log.
"""

from __future__ import annotations

import re
from collections import Counter

from pydantic import BaseModel, ConfigDict

from ruler.records import DIMENSIONS
from runlog.gitstore import current_best
from runlog.workspace import Workspace

CUES: dict[str, tuple[str, ...]] = {
    "atomicity": ("atomic", "one thing", "compound", "two questions", "fused", "double"),
    "specificity": ("specific", "generic", "grounded", "vague"),
    "coverage": ("coverage", "cover", "missing", "critical", "decision"),
    "naturalness": ("natural", "awkward", "human", "reads like", "fluent"),
    "non_redundancy": ("redundan", "duplicate", "overlap", "repeat"),
}


def cited(rationale: str) -> set[str]:
    """The dimensions a rationale names (by name or by one of its cue words)."""
    text = f" {rationale.lower().replace('_', ' ')} "
    found = set()
    for dimension in DIMENSIONS:
        cues = (dimension.replace("_", " "), dimension.replace("_", "-"), *CUES.get(dimension, ()))
        if any(re.search(re.escape(cue), text) for cue in cues):
            found.add(dimension)
    return found


class NotesCount(BaseModel):
    """For one experiment: rationales read, and how many cite each dimension."""

    model_config = ConfigDict(extra="forbid")

    experiment: str
    rationales: int
    cited: dict[str, int]
    best: bool = False

    @property
    def most(self) -> str | None:
        top = max(self.cited.items(), key=lambda kv: kv[1], default=(None, 0))
        return top[0] if top[1] else None


def notes_analysis(ws: Workspace) -> list[NotesCount]:
    """Per experiment with stored outputs, the dimensions its judge notes cite (id order)."""
    best = current_best(ws)
    rows = []
    for exp in ws.record_ids():
        counts: Counter[str] = Counter()
        read = 0
        for row in ws.outputs(exp):
            for verdict in row.verdicts:
                if verdict.rationale.strip():
                    read += 1
                    counts.update(cited(verdict.rationale))
        if read:
            rows.append(
                NotesCount(
                    experiment=exp,
                    rationales=read,
                    cited={d: counts[d] for d in DIMENSIONS},
                    best=best is not None and best.id == exp,
                )
            )
    return rows
