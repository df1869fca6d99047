"""The graph's services over a real workspace: `runlog` for records, git and caches, `levers`
for the agent, lever validation and training, the control channel for steering and live status.

The keep decision (`promising`, `decide`) is `ruler.keep_policy`'s: an experiment runs on the
keep gate, goes on to the confirm gate when the `[keep] screen` rule passes on the keep gate's
per-case deltas, and is kept only when the paired lower bound of its gain on the decisive gate
is above `min_delta`.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from levers.adapters import adapter_store
from levers.config import AgentConfig, dump_agent, read_agent
from levers.lever import EXPERIMENT_CLASSES
from levers.pipeline import describe_levers
from levers.sandbox import describe as describe_sandbox
from levers.sandbox import unsandboxed_allowed
from levers.validate import SMOKE_MODEL, Smoke, ValidationReport, validate_lever
from models import AutoresearchError
from models.files import atomic_write_text
from orchestrator import control
from orchestrator.change import describe_change
from orchestrator.graph import Budget
from orchestrator.research.holdout import Holdout
from orchestrator.research.tools import ResearchTools
from orchestrator.researchers.base import (
    ExperimentSummary,
    LogView,
    Proposal,
    Researcher,
    ResearchKit,
    apply_patch,
)
from orchestrator.researchers.heuristic import canonical
from orchestrator.state import LoopState, Outcome
from ruler.cache import PinnedVerdicts
from ruler.calibrate import CalibrationError, load_calibration
from ruler.keep_policy import decide, promising
from ruler.records import GateResult
from runlog.comparable import baseline_for
from runlog.evaluate import (
    EvalResult,
    evaluate_config,
    evaluate_workspace,
    resolve_judge,
    workspace_ruler,
    workspace_verdict_cache,
)
from runlog.records import ExperimentRecord
from runlog.report import write_dashboard
from runlog.workspace import Workspace

UNSANDBOXED_NOTE = " [lever code ran without an OS sandbox: --unsandboxed]"


def every_case_failed(runs: list[EvalResult]) -> str:
    """Why an evaluation measured nothing (every case of a gate failed), or '' when it did."""
    for run in runs:
        if run.runs and all(r.failed for r in run.runs):
            first = next((r.error for r in run.runs if r.error), "no error text")
            return f"every case of {run.result.gate} failed ({len(run.runs)}); first: {first}"[:500]
    return ""


@dataclass
class WorkspaceServices:
    ws: Workspace
    researcher: Researcher
    budget: Budget = field(default_factory=Budget)
    supervised: bool = False
    on_progress: Callable[[str, dict[str, Any]], None] | None = None
    poll_seconds: float = 0.5
    node_seconds: dict[str, float] = field(default_factory=dict)
    dashboard: Path | None = None  # rewritten after every recorded experiment
    _node: tuple[str, float] | None = None

    @property
    def root(self) -> Path:
        return self.ws.main_root

    def emit(self, kind: str, /, **payload: Any) -> None:
        control.emit(self.root, kind, **payload)
        if self.on_progress:
            self.on_progress(kind, payload)

    def publish_status(self, state: str, **fields: Any) -> None:
        control.write_status(
            self.root,
            control.LiveStatus(
                state=state, pid=os.getpid(), researcher=self.researcher.name, **fields
            ),
        )  # type: ignore[arg-type]

    # -- control ---------------------------------------------------------------------------
    def poll(self, state: LoopState, node: str) -> dict[str, Any]:
        now = time.perf_counter()
        if self._node is not None:
            name, started = self._node
            self.node_seconds[name] = self.node_seconds.get(name, 0.0) + now - started
        self._node = (node, now)
        offset = state.get("control_offset", 0)
        notes = list(state.get("notes") or [])
        stop = bool(state.get("stop_requested"))
        paused = False
        while True:
            start = offset
            commands, offset = control.read_commands(self.root, offset)
            for command in commands:
                if command.kind == "note":
                    notes.append(command.text)
                    self.record_event("note", text=command.text, command=command.id)
                elif command.kind in ("pause", "resume"):
                    paused = command.kind == "pause"
                    self.record_event(command.kind, command=command.id)
                elif command.kind == "stop":
                    stop, paused = True, False
                    self.record_event(
                        "stop", text="stopping after the current experiment", command=command.id
                    )
                elif not self._settled(command.id):  # a used answer is re-read on resume
                    self.emit(
                        "ignored",
                        command=command.kind,
                        text="no approval is pending; nothing to approve or deny",
                    )
            if offset != start:  # applied: a lost checkpoint must not replay these
                control.save_applied_position(self.root, offset)
            if not paused:
                break
            self.publish_status("paused", node=node, experiment=state.get("exp_id", ""))
            time.sleep(self.poll_seconds)
        self.publish_status("running", node=node, experiment=state.get("exp_id", ""))
        self.emit("node", node=node, experiment=state.get("exp_id", ""))
        return {"control_offset": offset, "notes": notes, "stop_requested": stop}

    def _settled(self, command: str) -> bool:
        kinds = ("approved", "denied", "stop")
        return any(e.payload.get("command") == command for e in self.ws.events() if e.kind in kinds)

    def stop_reason(self, state: LoopState) -> str:
        if state.get("stop_requested"):
            return "stopped by the supervisor"
        return self.budget.spent()

    # -- reading the log -------------------------------------------------------------------
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
                )
                for r in records
            ],
            best_id=best.id if best else None,
            best_agent=best.record.agent if best else self._agent_on_disk(),
            best_quality=best.record.quality if best else None,
            since_last_kept=since,
            training_requests=len(requests),
            notes_history=[e.payload.get("text", "") for e in self.ws.events("note")],
            adapters=self._adapters(),
            # read in a pipeline process: no lever file is imported where the judge runs
            levers=describe_levers(self.ws.agent_dir / "levers"),
            results_tsv=self.ws.results_path.read_text() if self.ws.results_path.exists() else "",
            trainable_here=(trainable := self.trainable())[0],
            trainable_reason=trainable[1],
            feedback=list(feedback or []),
        )

    # -- the research turn (tool-using researchers) and what the graph refuses --------------
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
            {"hash": a.hash, "kind": a.kind, "base_model": a.base_model}
            for a in list_adapters(adapter_store(self.root))
        ]

    def next_experiment_id(self) -> str:
        return self.ws.next_experiment_id()

    # -- the experiment --------------------------------------------------------------------
    def write_lever(
        self, exp_id: str, proposal: Proposal, agent_dir: Path | None = None
    ) -> str | None:
        """The proposal's lever module, written into `agent_dir` (the work tree's agent/ by
        default) under its file name, or `lever_<id>.py` when that is not a module name."""
        if not proposal.lever_code:
            return None
        name = proposal.lever_filename or f"lever_{exp_id}.py"
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*\.py", name):
            name = f"lever_{exp_id}.py"
        path = (agent_dir or self.ws.agent_dir) / "levers" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, proposal.lever_code)
        return str(path)

    def validate_lever(
        self, path: str, agent_patch: dict[str, Any] | None = None
    ) -> ValidationReport:
        """Validate the lever inside the proposed agent (the best with the patch applied), on a
        training-pool task, with the fake model and, when local, the real candidate."""
        if agent_patch is None:
            return validate_lever(Path(path))
        from levers.training.data import load_training_pool

        agent = apply_patch(self._parent_config(), agent_patch)
        candidate = str(agent.get("model", ""))
        models = [SMOKE_MODEL, candidate] if candidate.startswith("local:") else [SMOKE_MODEL]
        pool = load_training_pool(limit=1)
        smoke = Smoke(agent=agent, models=models, **({"task": pool[0].task} if pool else {}))
        return validate_lever(Path(path), smoke=smoke, timeout=25.0 if len(models) == 1 else 300.0)

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
        parent = best.record.agent if best else self._agent_on_disk()
        agent = apply_patch(parent, proposal.agent_patch)
        method = describe_change(parent, agent, lever_path)
        try:
            atomic_write_text(self.ws.agent_path, dump_agent(AgentConfig.model_validate(agent)))
            read_agent(self.ws.agent_path)  # levers load and are checked in the pipeline process
            keep = self.ws.config.keep
            notes: list[str] = []  # how the best's results were made comparable (issue 16)
            pinned = workspace_verdict_cache(self.ws).pinned()  # once, before any gate runs
            dev = self._evaluate(exp_id, keep.gate, self._baseline(best, keep.gate, notes), pinned)
            runs = [dev]
            confirm = keep.confirm_gate if keep.confirm_gate != keep.gate else None
            if confirm and (best is None or promising(dev.result, keep.screen_rule())):
                baseline = self._baseline(best, confirm, notes)
                runs.append(self._evaluate(exp_id, confirm, baseline, pinned))
        except (AutoresearchError, ValueError) as exc:
            return Outcome.failed(
                _one_line(exc), method=method, agent=agent, seconds=time.perf_counter() - started
            )
        broken = every_case_failed(runs)
        if broken:  # nothing was measured: failed, never kept (a baseline included)
            return Outcome.failed(
                broken,
                method=method,
                agent=dev.agent.model_dump(mode="json"),
                outputs=runs[-1].outputs(),
                seconds=time.perf_counter() - started,
            )
        # the decisive result: the confirm gate's when it ran, the keep gate's when none is set
        config = dev.agent  # validated by the pipeline process
        full = runs[1].result if len(runs) > 1 else (None if confirm else dev.result)
        status, why = decide(
            dev.result,
            full,
            baseline=best is None,
            policy=keep.policy,
            min_delta=keep.min_delta,
            rule=keep.screen_rule(),
        )
        why = "; ".join([why, *notes])
        adapter = next(
            (s.params.get("adapter") for s in config.enabled_levers() if s.name == "adapter"), None
        )
        last = runs[-1]
        return Outcome(
            status=status,  # type: ignore[arg-type]
            decision=why,
            method=method,
            agent=config.model_dump(mode="json"),
            gates=[r.result for r in runs],
            outputs=last.outputs(),
            trace=self._training_trace(adapter) + [n.model_dump(mode="json") for n in last.trace],
            cost_usd=_cost(runs),
            # the pipeline's wall time (cached cases cost none): evaluation minus judging
            model_seconds=sum(max(0.0, r.seconds - r.result.judge_seconds) for r in runs),
            judge_seconds=sum(r.result.judge_seconds for r in runs),
            model_ids={"candidate": config.model, "judge": last.result.judge_id},
            adapter_hash=adapter,
            seconds=time.perf_counter() - started,
        )

    # -- comparison with the best (issue 16) ------------------------------------------------
    def _baseline(self, best: Any, gate: str, notes: list[str]) -> GateResult | None:
        """The best's result on `gate` under the current judge, mode and ruler: re-judged from
        its stored outputs when another judge scored it (runlog.comparable); `notes` says so."""
        loaded = workspace_ruler(self.ws)
        found = baseline_for(
            self.ws,
            best.record if best else None,
            gate,
            judge=resolve_judge(self.ws.config.judge.spec, loaded),
            mode=self.ws.config.judge.mode,
            ruler=loaded,
            cache=workspace_verdict_cache(self.ws),
        )
        if found.note:
            notes.append(found.note)
        return found.result

    def recheck_best(self) -> dict[str, Any] | None:
        """Winner's curse: every `[keep] recheck_every` kept experiments, when the agent samples
        or the judge is stochastic, the new best is run again on its deciding gate with a fresh
        seed and no output cache; a `recheck` event records both figures, flagged when the
        re-measure falls below the previous best's interval."""
        keep, best = self.ws.config.keep, self.ws.current_best()
        kept = [r for r in self.ws.records() if r.status == "kept"]
        due = best is not None and len(kept) > 1 and kept[-1].id == best.id
        if not (due and keep.recheck_every and (len(kept) - 1) % keep.recheck_every == 0):
            return None
        config = AgentConfig.model_validate(best.record.agent)
        loaded = workspace_ruler(self.ws)
        judge = resolve_judge(self.ws.config.judge.spec, loaded)
        if not stochastic(config, judge_flip_rate(self.ws, judge.judge_id)):
            return None
        shown = best.record.result
        if shown is None:
            return None
        # a fresh seed: the local backend seeds 0 when none is given; Anthropic cannot seed
        # sampling (it refuses a seed) but samples afresh anyway
        seed = None if config.model.startswith("anthropic:") else time.time_ns() % 2**31
        decoding = config.decoding.model_copy(update={"seed": seed})
        fresh = evaluate_config(
            config.model_copy(update={"decoding": decoding}),
            gate=shown.gate,
            judge=judge,
            mode=self.ws.config.judge.mode,
            ruler=loaded,
            workspace=self.root,
            agent_dir=self.ws.agent_dir,  # the best's lever files: the work tree is the best now
        ).result
        previous = kept[-2].result
        flagged = previous is not None and fresh.quality < previous.interval.low
        payload = {
            "experiment": best.id,
            "gate": shown.gate,
            "seed": seed,
            "quality": fresh.quality,
            "low": fresh.interval.low,
            "high": fresh.interval.high,
            "was": shown.quality,
            "previous_best": kept[-2].id,
            "previous_low": previous.interval.low if previous else None,
            "flagged": flagged,
        }
        self.ws.append_event("recheck", payload)
        self.emit("recheck", **payload)
        return payload

    def _recheck_safely(self) -> None:
        try:
            self.recheck_best()
        except (AutoresearchError, ValueError) as exc:
            self.record_event("error", text=f"re-measuring the best failed: {_one_line(exc)}")

    # -- end of the comparison with the best -----------------------------------------------

    def _training_trace(self, ref: str | None) -> list[dict[str, Any]]:
        """The adapter's (dev-time) training as the first node of the process diagram."""
        if not ref:
            return []
        from levers.adapters import load_record
        from levers.training.track import training_node

        record = load_record(adapter_store(self.root), ref)
        return [training_node(record).model_dump(mode="json")]

    def _lever_class(self, proposal: Proposal, outcome: Outcome) -> str:
        """The record's class: the proposal's, an adapter's by its training kind, else other."""
        lever_class = proposal.lever_class
        if lever_class == "adapter" and outcome.adapter_hash:
            kind = next(
                (a["kind"] for a in self._adapters() if a["hash"].startswith(outcome.adapter_hash)),
                "sft",
            )
            lever_class = f"adapter-{kind}"
        return lever_class if lever_class in EXPERIMENT_CLASSES else "other"

    def _method(self, state: LoopState, proposal: Proposal, outcome: Outcome) -> str:
        """The actual change (an experiment that failed before its gates never changes the best,
        so the change is computed against the best now), then the researcher's own words."""
        change = outcome.method or describe_change(
            parent := self._parent_config(),
            apply_patch(parent, proposal.agent_patch),
            state.get("lever_path"),
        )
        return "\n".join(part for part in (change, proposal.method.strip()) if part)

    def record(self, state: LoopState) -> str:
        """Commit the experiment, count it against the budget, and rewrite the dashboard."""
        proposal, outcome = state["proposal"], state["outcome"]
        if proposal is None or outcome is None:
            raise AutoresearchError("record reached without a proposal and its outcome")
        timing = {
            **self.node_seconds,
            "model": outcome.model_seconds,
            "judge": outcome.judge_seconds,
        }
        record = ExperimentRecord(
            id=state["exp_id"],
            hypothesis=proposal.hypothesis,
            method=self._method(state, proposal, outcome),
            lever_class=self._lever_class(proposal, outcome),  # type: ignore[arg-type]
            agent=outcome.agent,
            gates=outcome.gates,
            trace=outcome.trace,
            cost_usd=outcome.cost_usd + proposal.research_cost_usd,
            predicted_delta=proposal.predicted_delta,
            wall_seconds=outcome.seconds,
            node_seconds={k: round(v, 3) for k, v in timing.items()},
            status=outcome.status,
            failure=outcome.failure,
            decision=outcome.decision + (UNSANDBOXED_NOTE if unsandboxed_allowed() else ""),
            notes_seen=list(state.get("notes_seen") or []),
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

    def record_event(self, kind: str, /, **payload: Any) -> None:
        """Log an event; one a control command caused (`command=<id>`) is logged once only,
        however often a resumed loop re-reads the command."""
        command = payload.get("command")
        if command and any(e.payload.get("command") == command for e in self.ws.events(kind)):
            return
        self.ws.append_event(kind, payload)
        self.emit(kind, **payload)

    # -- training --------------------------------------------------------------------------
    def training_estimate(self, request: dict[str, Any]) -> dict[str, Any]:
        from levers.training.estimate import estimate_seconds
        from levers.training.trainers import TrainConfig, training_supported

        model = self._agent_on_disk().get("model", "")
        ok, reason = training_supported(model)
        steps = int(request.get("steps") or 60)
        batch = TrainConfig().batch_size
        seconds = estimate_seconds(request.get("kind", "sft"), steps, model, batch) if ok else None
        return {
            "model": model,
            "data_size": _pool_size(),
            "steps": steps,
            "estimated_seconds": seconds,
            "trainable_here": ok,
            "note": reason,
        }

    def train(self, request: dict[str, Any], exp_id: str) -> str:
        from levers.training.track import run_training
        from levers.training.trainers import TrainConfig

        kind = request.get("kind", "sft")
        steps = int(request.get("steps") or 60)
        self.record_event("training_started", request=exp_id, training=request)
        self.publish_status("training", node="train", experiment=exp_id)

        def on_step(step: int, total: int, loss: float | None) -> None:
            self.publish_status(
                "training",
                node="train",
                experiment=exp_id,
                progress=(step, total),
                message=f"loss {loss:.3f}" if loss is not None else "",
            )
            self.emit("training_progress", step=step, total=total, loss=loss)

        def on_draft(done: int, total: int) -> None:  # on-policy pairs: the agent's own drafts
            self.publish_status(
                "training",
                node="train",
                experiment=exp_id,
                progress=(done, total),
                message="drafting on-policy pairs",
            )
            self.emit("training_progress", stage="drafts", step=done, total=total)

        try:
            adapter = run_training(
                kind,
                workspace=self.root,
                config=TrainConfig(steps=steps),
                pairs=request.get("pairs") or "style",
                on_step=on_step,
                on_draft=on_draft,
            )
        except Exception as exc:  # any failure (missing trl/peft, a torch error) is recorded
            self.record_event(
                "error", request=exp_id, text=f"training failed: {_one_line(exc)}", training=request
            )
            return ""
        self.record_event(
            "training_done",
            request=exp_id,
            adapter=adapter.hash,
            training_kind=kind,
            seconds=adapter.seconds,
        )
        return adapter.hash


def stochastic(config: AgentConfig, judge_flips: float | None) -> bool:
    """Does a re-run give other numbers: the agent samples (temperature > 0, in its decoding or
    a decoding lever) or the judge's calibration measured A/A flips (the offline judge and
    the LLM judges at temperature 0 count as deterministic until a calibration says not)."""
    temps = [config.decoding.temperature] + [
        float(s.params.get("temperature") or 0)
        for s in config.enabled_levers()
        if s.name == "decoding"
    ]
    return max(temps) > 0 or bool(judge_flips)


def judge_flip_rate(ws: Workspace, judge_id: str) -> float | None:
    """The judge's measured A/A flip rate (`ruler calibrate`), None when never measured."""
    try:
        found = load_calibration(judge_id, ws.config.judge.mode, ws.config.ruler.name)
    except CalibrationError:
        return None
    return found.aa_flip_rate if found else None


def _cost(runs: list[EvalResult]) -> float:
    """Judging plus the model calls this experiment generated (cached cases cost nothing)."""
    judge = sum(r.result.judge_cost_usd for r in runs)
    model = sum(
        n.cost_usd
        for r in runs
        for run in r.runs
        if run.case_id not in r.extra.get("cached", ())
        for n in run.trace
    )
    return judge + model


def _one_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:500]


def _pool_size() -> int:
    from levers.training.data import load_training_pool

    return len(load_training_pool())
