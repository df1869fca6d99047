"""The product's question, answered in one place: how close is the best agent to the gold?

`run_gold` judges the gold answers themselves as candidates (each against itself) on a gate:
the highest quality this judge and formula give anything, since even a perfect copy of the gold
only ties it. `headline` sets the best experiment beside that figure, its W/T/L against the
gold, and the cloud ceiling (a `ceiling` record) when one was measured under the same judge,
mode, gate and ruler. `status`, the dashboard, the live page and the TUI header all show it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from ruler.records import GateResult
from runlog.gitstore import current_best
from runlog.records import OutputRow, ReferenceRecord
from runlog.reference.store import REFERENCE_PATH, commit_reference, next_reference_id
from runlog.workspace import Workspace

QUALITY_FORMULA = (
    "quality = 0.5 × (mean rubric − 1)/4 + 0.5 × (W + T/2)/N: half the five rubric dimensions "
    "(1–5, scaled to 0–1), half the head-to-head record against the gold answer (a tie counts "
    "half), over the gate's N cases"
)


def run_gold(
    ws: Workspace, gate: str = "full-30", judge: Any = None, *, progress: Any = None
) -> ReferenceRecord:
    """Judge every gold answer of `gate` against itself with the workspace's judge and mode
    (through the verdict cache), and commit the result as a reference record."""
    from ruler.gates import evaluate as evaluate_gate
    from ruler.plan import render_plan
    from runlog.evaluate import resolve_judge, workspace_ruler, workspace_verdict_cache

    loaded = workspace_ruler(ws)
    cases = loaded.gate_cases(gate)
    judge = resolve_judge(judge or ws.config.judge.spec, loaded)
    texts = {case.id: render_plan(case.gold) for case in cases}
    result = evaluate_gate(
        texts,
        gate,
        judge,
        ws.config.judge.mode,
        ruler=loaded,
        progress=progress,
        cache=workspace_verdict_cache(ws),
    )
    ref_id = next_reference_id(ws)
    record = ReferenceRecord(
        id=ref_id,
        kind="gold",
        title=f"the gold answers as candidates on {gate}",
        description="Each gold answer judged against itself: the most this judge and the "
        "quality formula give any answer (a perfect copy only ties the gold).",
        gates=[result],
        model_ids={"candidate": "gold", "judge": judge.judge_id},
        outputs=f"{REFERENCE_PATH}/{ref_id}.jsonl",
    )
    rows = [
        OutputRow(case_id=v.case_id, text=texts[v.case_id], verdicts=[v]) for v in result.verdicts
    ]
    commit_reference(ws, record, rows)
    return record


class Headline(BaseModel):
    """How close the best agent is to the gold, and to the cloud (None: not measured)."""

    model_config = ConfigDict(extra="forbid")

    best: str | None = None
    gate: str | None = None
    judge: str | None = None
    mode: str | None = None
    quality: float | None = None
    wins: int = 0
    ties: int = 0
    losses: int = 0
    gold_quality: float | None = None
    gold_reference: str | None = None
    ceiling_quality: float | None = None
    ceiling_model: str | None = None
    ceiling_reference: str | None = None

    @property
    def share_of_gold(self) -> float | None:
        if self.quality is None or not self.gold_quality:
            return None
        return self.quality / self.gold_quality

    def lines(self, directory: str = ".") -> list[str]:
        """Two lines: the best against the gold itself; W/T/L against the gold and the cloud."""
        if self.best is None or self.quality is None:
            return ["no kept experiment yet: `autoresearch run` measures the baseline first", ""]
        where = f"{self.gate}, judge {self.judge} ({self.mode})"
        if self.share_of_gold is not None:
            first = (
                f"{self.best} reaches {self.share_of_gold:.0%} of the gold: quality "
                f"{self.quality:.3f} vs {self.gold_quality:.3f} for the gold itself ({where})"
            )
        else:
            first = (
                f"{self.best} quality {self.quality:.3f} ({where}); the gold itself not measured: "
                f"autoresearch ceiling --gold -C {directory}"
            )
        n = self.wins + self.ties + self.losses
        wtl = f"{self.wins}/{self.ties}/{self.losses}"
        second = f"vs gold W/T/L {wtl} (the gold is better in {self.losses} of {n} cases)"
        if self.ceiling_quality is not None:
            second += f" · cloud ceiling {self.ceiling_quality:.3f} ({self.ceiling_model})"
        else:
            second += " · cloud ceiling not measured (autoresearch ceiling --candidate SPEC)"
        return [first, second]

    def short(self) -> str:
        """One compact phrase for a header: `63% of gold · W/T/L 2/5/3 vs gold · cloud 0.500`."""
        if self.best is None or self.quality is None:
            return ""
        share = "gold itself not measured"
        if self.share_of_gold is not None:
            share = f"{self.share_of_gold:.0%} of gold ({self.gold_quality:.3f})"
        cloud = f" · cloud {self.ceiling_quality:.3f}" if self.ceiling_quality is not None else ""
        return f"{share} · W/T/L {self.wins}/{self.ties}/{self.losses} vs gold{cloud}"


def _same_ruler(a: GateResult, b: GateResult) -> bool:
    return (a.gate, a.judge_id, a.mode, a.ruler_hash) == (b.gate, b.judge_id, b.mode, b.ruler_hash)


def readable_references(ws: Workspace) -> list[ReferenceRecord]:
    """The reference records; none at all when one cannot be read (the headline then says
    "not measured" rather than failing `status`)."""
    try:
        return ws.references()
    except (ValidationError, ValueError, OSError):
        return []


def headline(ws: Workspace) -> Headline:
    """The best experiment beside the gold's own figure and the cloud ceiling, compared only
    under the same gate, judge, mode and ruler hash."""
    best = current_best(ws)
    if best is None or best.record.result is None:
        return Headline()
    result = best.record.result
    view = Headline(
        best=best.record.name,
        gate=result.gate,
        judge=result.judge_id,
        mode=result.mode,
        quality=result.quality,
        wins=result.wins,
        ties=result.ties,
        losses=result.losses,
    )
    for ref in readable_references(ws):
        if ref.result is None or not _same_ruler(ref.result, result):
            continue
        if ref.kind == "gold":
            view.gold_quality, view.gold_reference = ref.result.quality, ref.id
        elif ref.kind == "ceiling":
            view.ceiling_quality, view.ceiling_reference = ref.result.quality, ref.id
            view.ceiling_model = ref.model_ids.get("candidate")
    return view
