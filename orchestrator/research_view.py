"""What a researcher sees of the workspace: the log view, the research turn's tools and limits,
and the identity of a proposed agent (so the graph refuses a repeat)."""

from __future__ import annotations

import hashlib
import time
import tomllib
from typing import Any

from levers.adapters import adapter_store
from levers.config import read_agent
from levers.feature import FeatureSpec, fits
from levers.pipeline import describe_levers
from orchestrator.budget import Budget
from orchestrator.researchers.base import (
    ExperimentSummary,
    LogView,
    Proposal,
    ResearchKit,
    apply_patch,
)
from orchestrator.researchers.claude.holdout import Holdout
from orchestrator.researchers.claude.tools import ResearchTools
from orchestrator.researchers.heuristic import canonical
from runlog.calibration import observed_delta, seconds_per_case
from runlog.evaluate import workspace_ruler
from runlog.feature_spec import feature_spec
from runlog.workspace import Workspace


def levers_serving(levers: dict[str, dict[str, Any]], feature: FeatureSpec) -> dict[str, Any]:
    """The described levers that serve `feature` (a lever's `features`; none: any)."""
    return {
        n: info for n, info in levers.items() if fits(tuple(info.get("features") or ()), feature)
    }


class ResearchView:
    """The services' reading side for researchers (mixed into `WorkspaceServices`)."""

    ws: Workspace
    budget: Budget

    def log_view(self, feedback: list[str] | None = None) -> LogView:
        records = self.ws.records()
        best = self.ws.current_best()
        since = 0
        for record in reversed(records):
            if record.status == "kept":
                break
            since += 1
        kept_at = max((i for i, r in enumerate(records) if r.status == "kept"), default=-1)
        last_kept_time = records[kept_at].finished_at if kept_at >= 0 else None
        ruler = workspace_ruler(self.ws)
        feature = feature_spec(ruler)
        requests = [
            e
            for e in self.ws.events()
            if e.kind in ("approved", "denied")
            and (last_kept_time is None or e.time > last_kept_time)
        ]
        return LogView(
            experiments=[
                ExperimentSummary(
                    id=r.id,
                    status=r.status,
                    lever_class=r.lever_class,
                    hypothesis=r.hypothesis,
                    quality=r.quality,
                    dimensions=r.result.dimension_means if r.result else {},
                    gate=r.result.gate if r.result else "",
                    agent=r.agent,
                    failure=r.failure,
                    delta=observed_delta(r),
                    seconds_per_case=seconds_per_case(r),
                )
                for r in records
            ],
            best_id=best.id if best else None,
            best_agent=best.record.agent if best else self._agent_on_disk(),
            best_quality=best.record.quality if best else None,
            since_last_kept=since,
            training_requests=len(requests),
            trainings_granted=self.trainings_granted(),
            notes_history=[e.payload.get("text", "") for e in self.ws.events("note")],
            adapters=self._adapters(),
            # read in a pipeline process: no lever file is imported where the judge runs; only
            # the levers that serve the workspace's feature
            levers=levers_serving(describe_levers(self.ws.agent_dir / "levers"), feature),
            results_tsv=self.ws.results_path.read_text() if self.ws.results_path.exists() else "",
            trainable_here=(trainable := self.trainable())[0],
            trainable_reason=trainable[1],
            feedback=list(feedback or []),
            feature=feature,
            keep_gate_cases=len(ruler.gate_cases(self.ws.config.keep.gate)),
        )

    def trainings_granted(self) -> int:
        """Trainings the supervisor's last grant still approves unasked (the graph's budget,
        read back from the events: the grant's approval, then each approved within it); a
        grant of minutes counts one while its time lasts."""
        approved = self.ws.events("approved")
        grants = [e for e in approved if e.payload.get("grant")]
        if not grants:
            return 0
        last = grants[-1]
        grant, command = last.payload["grant"], last.payload.get("command", "")
        if grant.get("minutes") and time.time() >= last.time.timestamp() + grant["minutes"] * 60:
            return 0
        used = sum(str(e.payload.get("command", "")).startswith(f"{command}/") for e in approved)
        if grant.get("trainings") is None:
            return 1
        return max(int(grant["trainings"]) - 1 - used, 0)

    def research_kit(self, log: LogView) -> ResearchKit:
        """The tools over this workspace for one research turn, with its limits."""
        keep = self.ws.config.keep
        holdout = Holdout.of(workspace_ruler(self.ws), keep.gate, keep.confirm_gate or None)
        judge = self.ws.config.judge.spec
        tools = ResearchTools(
            self.ws,
            holdout,
            log,
            exp_id=self.ws.next_experiment_id(),
            judge="embedding" if judge.startswith("anthropic:") else judge,  # offline only
            repeat_of=self.repeat_of,
        )
        tools.clear_other_drafts()
        return ResearchKit(
            tools=tools,
            max_rounds=self.ws.config.researcher.max_tool_rounds,
            over_budget=self.over_budget,
        )

    def over_budget(self, turn_cost: float) -> str:
        """Why the run's budget stops a research turn that has cost `turn_cost` so far."""
        budget = self.budget
        if budget.usd is not None and budget.cost_usd + turn_cost >= budget.usd:
            return f"cost budget of ${budget.usd:.2f} spent"
        return budget.spent()

    def trainable(self) -> tuple[bool, str]:
        """Whether the candidate's weights can be trained on this machine, and why not."""
        from levers.training.trainers import training_supported

        return training_supported(str(self._parent_config().get("model", "")))

    def agent_key(self, proposal: Proposal) -> tuple[str, dict[str, str]]:
        """The identity of the agent `proposal` would run: its canonical config over the best,
        and the sha256 of each lever file (two proposals with equal keys run the same agent)."""
        best = self.ws.current_best()
        parent = self._parent_config()
        files = {f.name: f.sha256 for f in best.record.lever_files} if best else {}
        if proposal.lever_code:
            name = f"levers/{proposal.lever_filename or ''}"
            files[name] = hashlib.sha256(proposal.lever_code.encode()).hexdigest()
        return canonical(apply_patch(parent, proposal.agent_patch)), files

    def repeat_of(self, proposal: Proposal) -> str | None:
        """The id of an experiment that already ran exactly this agent (config and lever code)."""
        key = self.agent_key(proposal)
        for record in self.ws.records():
            recorded = {f.name: f.sha256 for f in record.lever_files}
            if record.agent and (canonical(record.agent), recorded) == key:
                return record.id
        return None

    def _agent_on_disk(self) -> dict[str, Any]:
        return read_agent(self.ws.agent_path).model_dump()

    def _parent_config(self) -> dict[str, Any]:
        """The best's agent, or agent.toml as written (its lever modules are not imported: one
        of them may be the broken module that failed the experiment being described)."""
        best = self.ws.current_best()
        return best.record.agent if best else tomllib.loads(self.ws.agent_path.read_text())

    def _adapters(self) -> list[dict[str, Any]]:
        from levers.adapters import list_adapters

        return [
            {
                "hash": a.hash,
                "kind": a.kind,
                "lever_class": a.experiment_class,
                "base_model": a.base_model,
            }
            for a in list_adapters(adapter_store(self.root))
        ]

    def next_experiment_id(self) -> str:
        return self.ws.next_experiment_id()
