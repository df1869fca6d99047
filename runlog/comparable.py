"""One judge per comparison (issue 16): what a new gate result is paired with.

A result is compared with the best's result on the same gate only when both were judged by the
same judge id (which carries the judge's version), mode and ruler hash. Otherwise the best's
stored outputs are judged again under the current judge (no candidate is regenerated; the
verdict cache makes a second time free) and the note says so, for the record's decision.
"""

from __future__ import annotations

from dataclasses import dataclass

from ruler.cache import VerdictCache
from ruler.gates import evaluate as evaluate_gate
from ruler.loader import Ruler
from ruler.records import GateResult, JudgeMode
from runlog.folder import WorkspaceFolder
from runlog.gitstore import committed_outputs
from runlog.records import ExperimentRecord


@dataclass(frozen=True)
class Baseline:
    """The best's result to pair with (None: nothing comparable) and how it was obtained."""

    result: GateResult | None
    note: str = ""


def same_judge(result: GateResult, judge_id: str, mode: JudgeMode, ruler_hash: str) -> bool:
    return (result.judge_id, result.mode, result.ruler_hash) == (judge_id, mode, ruler_hash)


def baseline_for(
    ws: WorkspaceFolder,
    best: ExperimentRecord | None,
    gate: str,
    *,
    judge,
    mode: JudgeMode,
    ruler: Ruler,
    cache: VerdictCache | None = None,
) -> Baseline:
    """The best's result on `gate` under the current judge, mode and ruler; re-judged from its
    stored outputs when it was judged otherwise."""
    if best is None:
        return Baseline(None)
    on_gate = [g for g in best.gates if g.gate == gate]
    ruler_hash = ruler.verify()
    same = [g for g in on_gate if same_judge(g, judge.judge_id, mode, ruler_hash)]
    match = same[-1] if same else None
    if match is not None or not on_gate:
        return Baseline(match)
    old = on_gate[-1]
    was = f"{old.judge_id} ({old.mode}, ruler {old.ruler_hash[:12]})"
    texts = {row.case_id: row.text for row in committed_outputs(ws, best.id)}  # never the tree
    missing = [c.id for c in ruler.gate_cases(gate) if c.id not in texts]
    if missing:
        return Baseline(
            None,
            f"best exp{best.id} was judged on {gate} by {was} and its outputs for "
            f"{', '.join(missing[:3])} are not stored: not compared",
        )
    result = evaluate_gate(texts, gate, judge, mode, ruler=ruler, cache=cache)
    now = f"{judge.judge_id} ({mode}, ruler {ruler_hash[:12]})"
    note = f"best exp{best.id} re-judged on {gate} under {now} from its stored outputs (was {was})"
    return Baseline(result, note)
