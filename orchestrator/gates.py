"""An experiment's gates: the keep gate, then the confirm gate when promising, each compared
with the best under the current judge and ruler, and the outcome the keep rule decides."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Protocol

from levers.config import AgentConfig, dump_agent, read_agent
from models import AutoresearchError
from models.files import atomic_write_text
from orchestrator.change import describe_change
from orchestrator.researchers.base import (
    Proposal,
    apply_patch,
)
from orchestrator.state import Outcome
from ruler.cache import PinnedVerdicts
from ruler.keep_policy import decide, promising
from ruler.records import GateResult
from runlog.comparable import baseline_for
from runlog.evaluate import (
    EvalResult,
    evaluate_workspace,
    resolve_judge,
    workspace_ruler,
    workspace_verdict_cache,
)
from runlog.records import ExperimentRecord
from runlog.settings import KeepSection
from runlog.workspace import Workspace


class GateRunner:
    """The services' gate runs (mixed into `WorkspaceServices`)."""

    ws: Workspace

    def _progress(self, exp_id: str, gate: str) -> Callable[[str, int, int], None]:
        def progress(stage: str, done: int, total: int) -> None:
            self.publish_status(
                "running",
                node="run_gate",
                experiment=exp_id,
                gate=gate,
                progress=(done, total),
                message=stage,
            )
            self.emit(
                "gate_progress", experiment=exp_id, gate=gate, stage=stage, done=done, total=total
            )

        return progress

    def _evaluate(
        self, exp_id: str, gate: str, baseline: GateResult | None, verdicts: PinnedVerdicts
    ) -> EvalResult:
        return evaluate_workspace(
            self.ws,
            gate=gate,
            baseline=baseline,
            compare_best=False,
            progress=self._progress(exp_id, gate),
            verdicts=verdicts,
        )

    def run_gate(self, exp_id: str, proposal: Proposal, lever_path: str | None = None) -> Outcome:
        started = time.perf_counter()
        best = self.ws.current_best()
        record = best.record if best else None
        parent = record.agent if record else self._agent_on_disk()
        agent = apply_patch(parent, proposal.agent_patch)
        method = describe_change(parent, agent, lever_path)
        try:
            atomic_write_text(self.ws.agent_path, dump_agent(AgentConfig.model_validate(agent)))
            read_agent(self.ws.agent_path)  # levers load and are checked in the pipeline process
            keep = self.ws.config.keep
            notes: list[str] = []  # how the best's results were made comparable (issue 16)
            pinned = workspace_verdict_cache(self.ws).pinned()  # once, before any gate runs
            baseline = comparable_baseline(self.ws, record, keep.gate, notes)
            dev = self._evaluate(exp_id, keep.gate, baseline, pinned)
            runs = [dev]
            confirm = confirm_gate(keep)
            if confirm and worth_confirming(keep, record, dev.result):
                baseline = comparable_baseline(self.ws, record, confirm, notes)
                runs.append(self._evaluate(exp_id, confirm, baseline, pinned))
        except (AutoresearchError, ValueError) as exc:
            return Outcome.failed(
                one_line(exc), method=method, agent=agent, seconds=time.perf_counter() - started
            )
        config = dev.agent  # validated by the pipeline process
        broken = every_case_failed([(r.result.gate, r.runs) for r in runs])
        if broken:  # nothing was measured: failed, never kept (a baseline included)
            return Outcome.failed(
                broken,
                method=method,
                agent=config.model_dump(mode="json"),
                outputs=runs[-1].outputs(),
                seconds=time.perf_counter() - started,
            )
        status, why = keep_decision(keep, record, [r.result for r in runs], notes)
        adapter = adapter_of(config)
        last = runs[-1]
        return Outcome(
            status=status,  # type: ignore[arg-type]
            decision=why,
            method=method,
            agent=config.model_dump(mode="json"),
            gates=[r.result for r in runs],
            outputs=last.outputs(),
            trace=self.training_trace(adapter) + [n.model_dump(mode="json") for n in last.trace],
            cost_usd=sum(evaluation_cost(r) for r in runs),
            # the pipeline's wall time (cached cases cost none): evaluation minus judging
            model_seconds=sum(max(0.0, r.seconds - r.result.judge_seconds) for r in runs),
            judge_seconds=sum(r.result.judge_seconds for r in runs),
            model_ids={"candidate": config.model, "judge": last.result.judge_id},
            adapter_hash=adapter,
            seconds=time.perf_counter() - started,
        )


# -- one of each, for the sequential loop and the parallel pool alike --------------------------
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
