"""An experiment's gates: the keep gate, then the confirm gate when promising, each compared
with the best under the current judge and ruler, and the outcome the keep rule decides."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from levers.config import AgentConfig
from ruler.keep_policy import decide, promising
from ruler.records import GateResult
from runlog.comparable import baseline_for
from runlog.evaluate import (
    EvalResult,
    resolve_judge,
    workspace_ruler,
    workspace_verdict_cache,
)
from runlog.records import ExperimentRecord
from runlog.settings import KeepSection
from runlog.workspace import Workspace


def confirm_gate(keep: KeepSection) -> str | None:
    """The decisive gate run after the keep gate, or None when the keep gate decides alone."""
    return keep.confirm_gate if keep.confirm_gate and keep.confirm_gate != keep.gate else None


def comparable_baseline(
    ws: Workspace, best: ExperimentRecord | None, gate: str, notes: list[str]
) -> GateResult | None:
    """The best's result on `gate` under the current judge, mode and ruler: re-judged from its
    stored outputs when another judge scored it (runlog.comparable); `notes` says so."""
    loaded = workspace_ruler(ws)
    found = baseline_for(
        ws,
        best,
        gate,
        judge=resolve_judge(ws.config.judge.spec, loaded),
        mode=ws.config.judge.mode,
        ruler=loaded,
        cache=workspace_verdict_cache(ws),
    )
    if found.note:
        notes.append(found.note)
    return found.result


def worth_confirming(keep: KeepSection, best: ExperimentRecord | None, dev: GateResult) -> bool:
    """Run the decisive gate: always for the baseline, else when the `[keep] screen` rule passes
    on the keep gate's comparison with the best."""
    return best is None or promising(dev, keep.screen_rule())


def keep_decision(
    keep: KeepSection, best: ExperimentRecord | None, gates: list[GateResult], notes: list[str]
) -> tuple[str, str]:
    """Kept or discarded, and why (with how the best was made comparable), from the gates run:
    the decisive result is the confirm gate's when it ran, the keep gate's when none is set."""
    dev = gates[0]
    full = gates[1] if len(gates) > 1 else (None if confirm_gate(keep) else dev)
    status, why = decide(
        dev,
        full,
        baseline=best is None,
        policy=keep.policy,
        min_delta=keep.min_delta,
        rule=keep.screen_rule(),
    )
    return status, "; ".join([why, *notes])


class CaseRun(Protocol):
    failed: bool
    error: str


def every_case_failed(gates: Sequence[tuple[str, Sequence[CaseRun]]]) -> str:
    """Why an evaluation measured nothing (every case of a gate failed), or '' when it did;
    `gates` pairs each gate with its per-case runs (or output rows)."""
    for gate, runs in gates:
        if runs and all(r.failed for r in runs):
            first = next((r.error for r in runs if r.error), "no error text")
            return f"every case of {gate} failed ({len(runs)}); first: {first}"[:500]
    return ""


def evaluation_cost(run: EvalResult) -> float:
    """Judging plus the model calls this evaluation generated (cached cases cost nothing)."""
    cached = set(run.extra.get("cached", ()))
    model = sum(n.cost_usd for r in run.runs if r.case_id not in cached for n in r.trace)
    return run.result.judge_cost_usd + model


def adapter_of(config: AgentConfig) -> str | None:
    """The adapter the agent's enabled `adapter` lever loads, if any."""
    return next(
        (s.params.get("adapter") for s in config.enabled_levers() if s.name == "adapter"), None
    )


def one_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:500]
