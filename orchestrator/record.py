"""Recording an experiment: its record committed to the workspace's git, counted against the
run's budget, the dashboard rewritten, and the best re-measured when due."""

from __future__ import annotations

from pathlib import Path

from levers.lever import EXPERIMENT_CLASSES
from levers.sandbox import describe as describe_sandbox
from levers.sandbox import unsandboxed_allowed
from orchestrator.budget import Budget
from orchestrator.change import describe_change
from orchestrator.researchers.base import (
    Proposal,
    apply_patch,
)
from orchestrator.state import Outcome
from runlog.records import ExperimentRecord
from runlog.report import write_dashboard
from runlog.workspace import Workspace

UNSANDBOXED_NOTE = " [lever code ran without an OS sandbox: --unsandboxed]"


class Recorder:
    """The services' records (mixed into `WorkspaceServices`)."""

    ws: Workspace
    budget: Budget
    node_seconds: dict[str, float]
    dashboard: Path | None

    def _lever_class(self, proposal: Proposal, outcome: Outcome) -> str:
        """The record's class: the proposal's; for an adapter, its store's word (SFT, or ORPO by
        its pairs), whatever the proposal said; else other."""
        lever_class = proposal.lever_class
        if lever_class.startswith("adapter") and outcome.adapter_hash:
            lever_class = next(
                (
                    a["lever_class"]
                    for a in self._adapters()
                    if a["hash"].startswith(outcome.adapter_hash)
                ),
                "adapter-sft" if lever_class == "adapter" else lever_class,
            )
        return lever_class if lever_class in EXPERIMENT_CLASSES else "other"

    def _method(self, proposal: Proposal, outcome: Outcome, lever_path: str | None) -> str:
        """The actual change (an experiment that failed before its gates never changes the best,
        so the change is computed against the best now), then the researcher's own words."""
        change = outcome.method or describe_change(
            parent := self._parent_config(),
            apply_patch(parent, proposal.agent_patch),
            lever_path,
        )
        return "\n".join(part for part in (change, proposal.method.strip()) if part)

    def record(
        self,
        exp_id: str,
        proposal: Proposal,
        outcome: Outcome,
        lever_path: str | None = None,
        notes_seen: list[str] | None = None,
    ) -> str:
        """Commit the experiment, count it against the budget, and rewrite the dashboard."""
        timing = {
            **self.node_seconds,
            "model": outcome.model_seconds,
            "judge": outcome.judge_seconds,
        }
        record = ExperimentRecord(
            id=exp_id,
            hypothesis=proposal.hypothesis,
            method=self._method(proposal, outcome, lever_path),
            lever_class=self._lever_class(proposal, outcome),  # type: ignore[arg-type]
            agent=outcome.agent,
            gates=outcome.gates,
            trace=outcome.trace,
            cost_usd=outcome.cost_usd + proposal.research_cost_usd,
            predicted_delta=proposal.predicted_delta,
            predicted_seconds=proposal.predicted_seconds,
            wall_seconds=outcome.seconds,
            node_seconds={k: round(v, 3) for k, v in timing.items()},
            status=outcome.status,
            failure=outcome.failure,
            decision=outcome.decision + (UNSANDBOXED_NOTE if unsandboxed_allowed() else ""),
            notes_seen=list(notes_seen or []),
            model_ids=outcome.model_ids,
            ruler_hash=self.ws.config.ruler.lock_hash,
            adapter_hash=outcome.adapter_hash,
            sandbox=describe_sandbox(),
        )
        info = self.ws.commit_experiment(record, outcome.outputs)
        if info.created:  # a record node re-run after a crash does not count twice
            self.budget.count(outcome.model_copy(update={"cost_usd": record.cost_usd}))
        self.node_seconds = {}
        if info.created and record.status == "kept":
            self._recheck_safely()
        self.dashboard = write_dashboard(self.ws)
        self.emit(
            "experiment",
            experiment=record.id,
            status=record.status,
            lever_class=record.lever_class,
            hypothesis=record.hypothesis,
            quality=record.quality,
            commit=info.commit,
        )
        return info.commit
