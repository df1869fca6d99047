"""A paired comparison of any two agents of a workspace on one gate.

`compare_agents(ws, reference, other)` evaluates the agent at `reference` (a ref) and the agent
at `other` (a ref, or the work tree for None) on the same gate, judge and mode, passing the
first result as the second one's baseline: the comparison is the one `ruler.gates.evaluate`
attaches for the keep policy (`ruler.quality.compare`: the paired per-case Δ, its bootstrap
interval, the per-case W/T/L and the sign test), not a second implementation of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ruler.records import Comparison
from runlog.evaluate import EvalResult, Progress, evaluate_workspace
from runlog.workspace import Workspace, WorkspaceError


@dataclass
class PairedComparison:
    """The reference's evaluation, the other agent's, and the paired comparison of the two."""

    reference: EvalResult
    other: EvalResult

    @property
    def comparison(self) -> Comparison:
        assert self.other.result.comparison is not None  # set by compare_agents
        return self.other.result.comparison


def compare_agents(
    ws: Workspace,
    reference: str,
    other: str | None = None,
    *,
    gate: str | None = None,
    judge: Any = None,
    mode: str | None = None,
    model: str | None = None,
    progress: Progress | None = None,
) -> PairedComparison:
    """Evaluate `reference` and `other` (None: the work tree) on one gate and pair them."""
    options = {"gate": gate, "judge": judge, "mode": mode, "model": model, "progress": progress}
    ref_result = evaluate_workspace(ws, ref=reference, compare_best=False, **options)
    other_result = evaluate_workspace(ws, ref=other, baseline=ref_result.result, **options)
    if other_result.result.comparison is None:
        raise WorkspaceError(f"{ws.root}: {reference} and {other or 'the work tree'} share no case")
    return PairedComparison(ref_result, other_result)


def _side(result: EvalResult, name: str) -> dict[str, Any]:
    gate = result.result
    return {
        "agent": name,
        "quality": gate.quality,
        "interval": gate.interval.model_dump(),
        "dimensions": gate.dimension_means,
        "wins": gate.wins,
        "ties": gate.ties,
        "losses": gate.losses,
        "tree_hash": result.tree_hash,
    }


def comparison_view(paired: PairedComparison) -> dict[str, Any]:
    """Plain data for `eval --compare` (text and --json): both sides and the paired result."""
    cmp, gate = paired.comparison, paired.other.result
    return {
        "gate": gate.gate,
        "mode": gate.mode,
        "judge": gate.judge_id,
        "reference": _side(paired.reference, paired.reference.ref or ""),
        "other": _side(paired.other, paired.other.ref or "work tree"),
        "delta": cmp.delta,
        "delta_interval": cmp.interval.model_dump(),
        "paired_wins": cmp.wins,
        "paired_ties": cmp.ties,
        "paired_losses": cmp.losses,
        "sign_test_p": cmp.sign_test_p,
        "per_case_delta": cmp.per_case_delta,
    }
