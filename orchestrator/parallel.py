"""`autoresearch run --parallel K`: up to K experiments in flight at once, on Ray workers.

check_stop → propose_more → collect → record_ready → check_stop. propose_more fills the free
worker slots: it asks the researcher for that many proposals, seeing the experiments in flight
as running ones, and screens them with check_proposal's `refusal` (a repeat of an agent already
run or in flight, training that cannot run here; a batch refused whole goes back with the
reasons). collect starts what is planned (each experiment in a driver thread that borrows a Ray
worker, see `orchestrator.ray_workers`) and waits for the first to finish; record_ready commits
every finished experiment below the lowest one still in flight, in id order, deciding keep or
discard against the best at that moment, so the outcome does not depend on which worker
finished first. A worker is never idle waiting for a slow neighbour: the next proposal starts
as soon as one finishes (a straggler, such as one promoted to its full-30 gate, holds only the
recording of the ids above it). The baseline and a training request run alone: a training
request waits until nothing is in flight, then goes to graph.py's request_training → train.

The driver alone touches git: an experiment's agent folder is prepared under
`.autoresearch/parallel/<id>/agent`. The experiments in flight and the finished ones waiting
for their turn are checkpointed with the graph's state, so a driver killed at any point
re-runs only those in flight; record_ready skips what is already recorded. A worker that dies
fails its experiment, with the reason, never the loop.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime
from pydantic import BaseModel, ConfigDict, Field

from levers.config import AgentConfig, dump_agent, read_agent
from levers.validate import ValidationReport, validate_lever
from models import AutoresearchError
from models.files import atomic_write_text
from orchestrator.change import describe_change
from orchestrator.graph import (
    EXHAUSTED,
    MAX_RETRIES,
    NODES,
    LoopContext,
    after_request,
    bound_log,
    polled,
    refusal,
    refused_too_often,
    researcher_error,
)
from orchestrator.ray_workers import (
    GateJob,
    GateRun,
    WorkerCrash,
    WorkerPool,
    connect,
    require_ray,
)
from orchestrator.researchers.base import (
    Proposal,
    SearchExhausted,
    apply_patch,
    propose_batch,
    with_running,
)
from orchestrator.services import WorkspaceServices
from orchestrator.state import STATE_MODELS, LoopState, Outcome
from ruler.keep_policy import decide, promising
from ruler.quality import compare
from ruler.records import GateResult
from runlog.records import ExperimentRecord

THREAD = "parallel"  # the checkpoint thread of parallel runs (the default loop's is "loop")


@dataclass(frozen=True)
class ParallelOptions:
    """`--parallel K [--ray ADDRESS] [--shard-cases] [--worker-cpus N]`."""

    workers: int
    address: str | None = None
    shard_cases: bool = False
    cpus_per_worker: float = 1.0

    def check(self, supervised: bool) -> None:
        if self.workers < 1:
            raise AutoresearchError(f"--parallel {self.workers}: give at least one worker")
        if self.cpus_per_worker <= 0:
            raise AutoresearchError(f"--worker-cpus {self.cpus_per_worker:g}: must be above 0")
        if supervised:
            raise AutoresearchError(
                "--supervised approves experiments one at a time; it does not combine with "
                "--parallel (training requests still wait for approve/deny)"
            )
        require_ray()


class Planned(BaseModel):
    """One experiment, as proposed."""

    model_config = ConfigDict(extra="forbid")

    exp_id: str
    proposal: Proposal
    proposal_error: str = ""
    notes_seen: list[str] = Field(default_factory=list)


class Finished(BaseModel):
    """One experiment's gates as run by a worker (its decision waits for record_ready)."""

    model_config = ConfigDict(extra="forbid")

    exp_id: str
    worker: str = ""
    failure: str = ""
    method: str = ""
    agent: dict[str, Any] = Field(default_factory=dict)
    lever_path: str | None = None
    proposal: Proposal | None = None  # the researcher's repair of a lever that failed validation
    adapter_hash: str | None = None
    runs: list[GateRun] = Field(default_factory=list)
    seconds: float = 0.0


class ParallelState(LoopState, total=False):
    planned: dict[str, Planned]  # every experiment proposed and not yet recorded, by id
    finished: dict[str, Finished]  # those run, waiting for the ids below them to be recorded


PARALLEL_MODELS: tuple[type[BaseModel], ...] = (*STATE_MODELS, Planned, Finished, GateRun)


def gate_of(record: ExperimentRecord | None, gate: str) -> GateResult | None:
    if record is None:
        return None
    return next((g for g in reversed(record.gates) if g.gate == gate), None)


def against(result: GateResult, baseline: GateResult | None) -> GateResult:
    """`result` with its paired comparison against `baseline` (none without one)."""
    comparison = compare(result, baseline) if baseline is not None else None
    return result.model_copy(update={"comparison": comparison})


@dataclass
class ParallelServices(WorkspaceServices):
    """The workspace services plus the worker pool, the experiments' threads and folders, and
    the in-flight status."""

    options: ParallelOptions = field(default_factory=lambda: ParallelOptions(1))
    pool: WorkerPool | None = None
    threads: ThreadPoolExecutor | None = None
    running: dict[str, Future[Finished]] = field(default_factory=dict)
    in_flight: dict[str, str] = field(default_factory=dict)  # experiment id → worker
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _tree: threading.Lock = field(default_factory=threading.Lock)  # agent/ and the best

    def publish_status(self, state: str, **fields: Any) -> None:
        with self._lock:
            flying = dict(self.in_flight)
        super().publish_status(state, in_flight=flying, **fields)

    def free_slots(self, planned: int, running: int) -> int:
        """How many more experiments may start now: the idle workers, within the experiment
        budget (counting those not yet recorded); none while the baseline is unrecorded."""
        if planned and not self.ws.record_ids():
            return 0
        free = self.options.workers - running
        if self.budget.experiments is not None:
            free = min(free, self.budget.experiments - self.budget.done - planned)
        return max(free, 0)

    def first_free_id(self, planned: dict[str, Planned]) -> int:
        """The next experiment id, above the recorded ones and those not yet recorded."""
        return max([int(self.next_experiment_id()), *(int(i) + 1 for i in planned)])

    # -- collect ---------------------------------------------------------------------------
    def start(self, planned: Planned) -> None:
        """Run `planned` in a driver thread, unless it is already running."""
        assert self.threads is not None, "the experiment threads start with the run"
        if planned.exp_id not in self.running:
            self.running[planned.exp_id] = self.threads.submit(self.run_experiment, planned)

    def first_finished(self, flying: list[Planned]) -> dict[str, Finished]:
        """Start whatever in `flying` is not running (just planned, or left by a killed
        driver); wait for the first to finish; every finished one."""
        for planned in flying:
            self.start(planned)
        futures = {self.running[p.exp_id]: p.exp_id for p in flying}
        done, _ = wait(futures, return_when=FIRST_COMPLETED)
        finished: dict[str, Finished] = {}
        for future in done:
            exp = futures[future]
            del self.running[exp]
            try:
                finished[exp] = future.result()
            except Exception as exc:  # the driver thread failed: the experiment, not the loop
                failure = f"{type(exc).__name__}: {exc}"[:500]
                finished[exp] = Finished(exp_id=exp, failure=failure)
        return finished

    def experiment_dir(self, exp_id: str) -> Path:
        return self.ws.state_dir / "parallel" / exp_id

    # -- run_experiment (a driver thread per experiment) -----------------------------------
    def prepare(self, planned: Planned) -> tuple[Finished, str | None]:
        """Write the experiment's agent folder (the best's, patched, with its lever module);
        its tree hash, or None with the failure in `Finished`."""
        proposal, exp = planned.proposal, planned.exp_id
        root = self.experiment_dir(exp)
        shutil.rmtree(root, ignore_errors=True)
        with self._tree:  # agent/ and the best as one (record_ready moves both)
            shutil.copytree(self.ws.agent_dir, root / "agent", ignore=_pycache)
            best = self.ws.current_best()
            parent = best.record.agent if best else read_agent(self.ws.agent_path).model_dump()
        shutil.copy2(self.ws.main_root / ".gitignore", root / ".gitignore")
        agent = apply_patch(parent, proposal.agent_patch)
        lever = self.write_lever(exp, proposal, root / "agent")
        finished = Finished(exp_id=exp, agent=agent, lever_path=lever)
        finished.method = describe_change(parent, agent, lever)
        if planned.proposal_error:
            finished.failure = planned.proposal_error
            return finished, None
        if lever and not (report := self._validate(root, finished, proposal, lever)).ok:
            finished.failure = f"lever validation failed at {report.stage}: {report.message}"
            return finished, None
        if finished.proposal is not None:  # repaired: its own patch
            agent = apply_patch(parent, finished.proposal.agent_patch)
        try:  # checked here, its levers loaded only in the pipeline process (the boundary)
            atomic_write_text(root / "agent" / "agent.toml", dump_agent(AgentConfig(**agent)))
            config = read_agent(root / "agent" / "agent.toml")
        except (AutoresearchError, ValueError) as exc:
            finished.failure = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"[:500]
            return finished, None
        finished.agent = config.model_dump(mode="json")
        finished.adapter_hash = next(
            (s.params.get("adapter") for s in config.enabled_levers() if s.name == "adapter"), None
        )
        return finished, agent_tree_hash(self.ws.root, root)

    def _validate(
        self, root: Path, finished: Finished, proposal: Proposal, lever: str
    ) -> ValidationReport:
        """Validate the lever module; a failure gets the researcher's one repair."""
        report = validate_lever(Path(lever))
        if report.ok:
            return report
        repaired = self.researcher.repair(proposal, report.message)
        if repaired is None or not repaired.lever_code:
            return report
        finished.proposal = repaired.model_copy(update={"lever_filename": Path(lever).name})
        self.write_lever(finished.exp_id, finished.proposal, root / "agent")
        return validate_lever(Path(lever))

    def job(self, exp_id: str, gate: str, tree_hash: str) -> GateJob:
        return GateJob(
            exp_id=exp_id,
            root=str(self.ws.main_root),
            agent_dir=str(self.experiment_dir(exp_id) / "agent"),
            tree_hash=tree_hash,
            gate=gate,
        )

    def run_gate_job(self, index: int, job: GateJob) -> GateRun:
        assert self.pool is not None, "the worker pool starts with the run"
        if not self.options.shard_cases:
            return self.pool.run(index, job)
        from runlog.evaluate import workspace_ruler

        cases = [c.id for c in workspace_ruler(self.ws).gate_cases(job.gate)]
        run = self.pool.run_sharded(index, job, cases)
        self.emit(
            "shards",
            experiment=job.exp_id,
            gate=job.gate,
            workers=run.worker,
            cases=len(cases),
            reused=run.cached_cases,  # the judging gate ran none of the shards' cases again
        )
        return run

    def run_experiment(self, planned: Planned) -> Finished:
        started = time.perf_counter()
        finished, tree_hash = self.prepare(planned)
        if tree_hash is None:
            return finished
        assert self.pool is not None, "the worker pool starts with the run"
        keep = self.ws.config.keep
        best = self.ws.current_best()
        with self.pool.borrow() as index:
            finished.worker = self.pool.names[index]
            self._flying(planned.exp_id, finished.worker)
            try:
                dev = self.run_gate_job(index, self.job(planned.exp_id, keep.gate, tree_hash))
                finished.runs.append(dev)
                confirm = keep.confirm_gate if keep.confirm_gate != keep.gate else None
                baseline = gate_of(best.record if best else None, keep.gate)
                if (
                    confirm
                    and dev.result
                    and (best is None or promising(against(dev.result, baseline)))
                ):
                    job = self.job(planned.exp_id, confirm, tree_hash)
                    finished.runs.append(self.run_gate_job(index, job))
            except WorkerCrash as exc:
                finished.failure = str(exc)
            finally:
                self._flying(planned.exp_id, None)
        finished.failure = finished.failure or next(
            (r.failure for r in finished.runs if r.failure), ""
        )
        finished.seconds = time.perf_counter() - started
        return finished

    def _flying(self, exp_id: str, worker: str | None) -> None:
        with self._lock:
            if worker is None:
                self.in_flight.pop(exp_id, None)
            else:
                self.in_flight[exp_id] = worker
        self.publish_status("running", node="run_experiment", experiment=exp_id)
        self.emit("node", node="run_experiment", experiment=exp_id, worker=worker or "")

    # -- record_ready (the driver alone, in id order) --------------------------------------
    def outcome(self, finished: Finished) -> Outcome:
        """The experiment's outcome, decided against the best now."""
        base = {"method": finished.method, "agent": finished.agent, "seconds": finished.seconds}
        if finished.failure or not finished.runs or finished.runs[0].result is None:
            return Outcome.failed(finished.failure or "no gate result", **base)
        keep, best = self.ws.config.keep, self.ws.current_best()
        record = best.record if best else None
        dev = against(finished.runs[0].result, gate_of(record, keep.gate))
        confirm = keep.confirm_gate if keep.confirm_gate != keep.gate else None
        counted = [finished.runs[0]]
        if confirm and (best is None or promising(dev)):
            run = next((r for r in finished.runs[1:] if r.gate == confirm), None)
            if run is None:  # the best changed since the dispatch: now it is worth running
                run = self._confirm_now(finished, confirm)
                if run.failure or run.result is None:
                    return Outcome.failed(run.failure or "no confirm-gate result", **base)
            counted.append(
                run.model_copy(update={"result": against(run.result, gate_of(record, confirm))})
            )
        full = counted[1].result if len(counted) > 1 else (None if confirm else dev)
        status, why = decide(
            dev, full, baseline=best is None, policy=keep.policy, min_delta=keep.min_delta
        )
        last = counted[-1]
        return Outcome(
            status=status,  # type: ignore[arg-type]
            decision=why,
            gates=[dev] + [r.result for r in counted[1:] if r.result],
            outputs=last.outputs,
            trace=last.trace,
            cost_usd=sum(r.cost_usd for r in finished.runs),
            model_seconds=sum(r.model_seconds for r in finished.runs),
            judge_seconds=sum(r.judge_seconds for r in finished.runs),
            model_ids={"candidate": last.model_id, "judge": last.judge_id},
            adapter_hash=finished.adapter_hash,
            **base,
        )

    def _confirm_now(self, finished: Finished, gate: str) -> GateRun:
        assert self.pool is not None, "the worker pool starts with the run"
        root = self.experiment_dir(finished.exp_id)
        job = self.job(finished.exp_id, gate, agent_tree_hash(self.ws.root, root))
        with self.pool.borrow() as index:
            try:
                run = self.run_gate_job(index, job)
            except WorkerCrash as exc:
                return GateRun(exp_id=finished.exp_id, gate=gate, failure=str(exc))
        finished.runs.append(run)
        return run

    def record_planned(self, planned: Planned, finished: Finished) -> str:
        """Commit one experiment (a second call for the same id changes nothing)."""
        if self.ws.record_path(planned.exp_id).is_file():
            return ""
        outcome = self.outcome(finished)
        folder = self.experiment_dir(planned.exp_id) / "agent"
        self.node_seconds = {"run_experiment": finished.seconds}
        state = {
            "exp_id": planned.exp_id,
            "proposal": finished.proposal or planned.proposal,
            "outcome": outcome,
            "lever_path": finished.lever_path,
            "notes_seen": planned.notes_seen,
        }
        with self._tree:
            if folder.is_dir():
                sync_tree(folder, self.ws.agent_dir)
            commit = self.record(state)  # type: ignore[arg-type]
        shutil.rmtree(self.experiment_dir(planned.exp_id), ignore_errors=True)
        return commit


def _pycache(_dir: str, names: list[str]) -> list[str]:
    return [n for n in names if n == "__pycache__"]


def sync_tree(src: Path, dst: Path) -> None:
    """Make `dst` hold exactly `src`'s files (each written atomically; __pycache__ aside)."""
    wanted = {
        p.relative_to(src) for p in src.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    }
    for path in sorted(dst.rglob("*"), reverse=True):
        rel = path.relative_to(dst)
        if path.is_file() and rel not in wanted and "__pycache__" not in rel.parts:
            path.unlink()
    for rel in sorted(wanted):
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(dst / rel, (src / rel).read_text())


def agent_tree_hash(repo_root: Path, folder: Path) -> str:
    """The git tree hash `folder/agent` would have as the workspace's `agent/` (the output
    cache's key, the same the default loop computes for its work tree)."""
    git_dir = subprocess.run(
        ["git", "-C", str(repo_root), "rev-parse", "--absolute-git-dir"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="autoresearch-index-") as tmp:
        env = {**os.environ, "GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git = ["git", "-C", str(folder), f"--git-dir={git_dir}", f"--work-tree={folder}"]
        subprocess.run([*git, "add", "-A", "--", "agent"], env=env, check=True, capture_output=True)
        done = subprocess.run(
            [*git, "write-tree", "--prefix=agent/"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
    return done.stdout.strip()


# -- proposals ------------------------------------------------------------------------------
@dataclass
class BatchPlan:
    """What the researcher proposed for the free slots, as the graph's checks leave it."""

    proposals: list[Proposal]
    error: str = ""  # one failed experiment (the researcher failed, or was refused)
    stop: str = ""  # no more proposals (the researcher's search space is exhausted)
    refused: list[str] = field(default_factory=list)  # why proposals were dropped
    dropped_usd: float = 0.0  # what the dropped proposals cost
    first: int = 0  # the id of the plan's first proposal


def screen(
    services: ParallelServices,
    batch: list[Proposal],
    first: int,
    flying: list[Proposal] | tuple[Proposal, ...] = (),
) -> BatchPlan:
    """The batch less what check_proposal would refuse (a repeat of an experiment already
    run, training that cannot run here) and less repeats of the experiments in flight or of the
    batch's own earlier proposals; the reasons for what was dropped are the plan's `refused`,
    its cost the plan's `dropped_usd`."""
    plan = BatchPlan([])
    keys = [services.agent_key(p) for p in flying]
    for i, proposal in enumerate(batch):
        reason = refusal(services, proposal, f"{first + i:03d}")
        key = services.agent_key(proposal)
        if not reason and not proposal.training_request and key in keys:
            reason = "refused: this agent is another experiment in flight; change it"
        if reason:
            plan.refused.append(reason)
            plan.dropped_usd += proposal.research_cost_usd
            continue
        plan.proposals.append(proposal)
        keys.append(key)
    return plan


def plan_batch(
    services: ParallelServices,
    notes: list[str],
    slots: int = 1,
    planned: dict[str, Planned] | None = None,
) -> BatchPlan:
    """Up to `slots` proposals that pass the checks, the researcher seeing the experiments not
    yet recorded as running ones; a batch refused whole goes back to the researcher with the
    reasons (at most MAX_RETRIES times, then one failed experiment). What the dropped proposals
    cost is carried by the plan's first."""
    planned = planned or {}
    first = services.first_free_id(planned)
    running = [(exp, p.proposal) for exp, p in sorted(planned.items())]
    feedback: list[str] = []
    cost = 0.0
    for _ in range(MAX_RETRIES + 1):
        try:
            log = with_running(bound_log(services, feedback), running)
            batch = propose_batch(services.researcher, log, notes, slots)
        except SearchExhausted:
            return BatchPlan([], stop=EXHAUSTED, first=first)
        except Exception as exc:  # a researcher's failure is a failed experiment, not a crash
            error, stand_in = researcher_error(exc)
            return BatchPlan([charged(stand_in, cost)], error=error, first=first)
        batch = batch or [Proposal(hypothesis="(no proposal)", lever_class="other")]
        plan = screen(services, batch, first, [p for _, p in running])
        cost += plan.dropped_usd
        if plan.proposals:
            proposals = [charged(plan.proposals[0], cost), *plan.proposals[1:]]
            return BatchPlan(proposals, first=first)
        feedback = plan.refused
    # refused every time: the last batch's first, as a failed experiment carrying every cost
    last = batch[0]
    error = refused_too_often(MAX_RETRIES + 1, feedback[0])
    return BatchPlan([charged(last, cost - last.research_cost_usd)], error=error, first=first)


def charged(proposal: Proposal, extra_usd: float) -> Proposal:
    """`proposal` also carrying `extra_usd` of research cost."""
    if not extra_usd:
        return proposal
    return proposal.model_copy(update={"research_cost_usd": proposal.research_cost_usd + extra_usd})


# -- nodes ----------------------------------------------------------------------------------
def _services(runtime: Runtime[LoopContext]) -> ParallelServices:
    return runtime.context.services  # type: ignore[return-value]


def waiting_training(state: ParallelState) -> bool:
    """A training request is proposed and waits for the experiments in flight to finish."""
    proposal = state.get("proposal")
    return proposal is not None and proposal.training_request is not None


def in_flight(state: ParallelState) -> list[Planned]:
    """The experiments planned and not finished, in id order."""
    finished = state.get("finished") or {}
    return [p for exp, p in sorted((state.get("planned") or {}).items()) if exp not in finished]


def propose_more(state: ParallelState, runtime: Runtime[LoopContext]) -> dict[str, Any]:
    """Proposals until every free slot has one, with consecutive ids after every id taken. A
    training request waits until nothing is in flight (it is kept aside when it comes first,
    else asked for again later); a researcher with nothing left to try ends the run once the
    experiments in flight are recorded."""
    services = _services(runtime)
    if waiting_training(state):
        return {}
    planned = dict(state.get("planned") or {})
    finished = state.get("finished") or {}
    notes = list(state.get("notes") or [])
    update: dict[str, Any] = {"notes": [], "notes_seen": notes, "outcome": None}
    added = False
    while slots := services.free_slots(len(planned), len(planned.keys() - finished.keys())):
        plan = plan_batch(services, notes, slots, planned)
        if plan.stop:
            return {**update, "planned": planned} if added else {**update, "stop_reason": plan.stop}
        new = [
            Planned(
                exp_id=f"{plan.first + i:03d}",
                proposal=p,
                proposal_error=plan.error,
                notes_seen=notes,
            )
            for i, p in enumerate(plan.proposals)
        ]
        training = next(
            (p for p in new if p.proposal.training_request and not p.proposal_error), None
        )
        if training is not None:
            if added:
                break
            return {**update, "exp_id": training.exp_id, "proposal": training.proposal}
        planned.update((p.exp_id, p) for p in new)
        added = True
        if plan.error:  # one failed experiment; the researcher is asked again later
            break
    return {**update, "planned": planned}


def collect(state: ParallelState, runtime: Runtime[LoopContext]) -> dict[str, Any]:
    """Start the planned experiments; wait for the first to finish."""
    flying = in_flight(state)
    if not flying:
        return {}
    done = _services(runtime).first_finished(flying)
    return {"finished": {**(state.get("finished") or {}), **done}}


def record_ready(state: ParallelState, runtime: Runtime[LoopContext]) -> dict[str, Any]:
    """Commit, in id order, every finished experiment below the lowest one still in flight."""
    services = _services(runtime)
    planned = dict(state.get("planned") or {})
    finished = dict(state.get("finished") or {})
    lowest = next((p.exp_id for p in in_flight(state)), None)
    commit = ""
    for exp in sorted(finished):
        if lowest is not None and exp > lowest:
            break
        commit = services.record_planned(planned.pop(exp), finished.pop(exp)) or commit
    return {"planned": planned, "finished": finished, "commit": commit}


def request_training(state: ParallelState, runtime: Runtime[LoopContext]) -> dict[str, Any]:
    """graph.py's request_training; a denied request is settled (the researcher goes on)."""
    update = NODES["request_training"](state, runtime)
    return update if update.get("approved") else {**update, "proposal": None}


def train(state: ParallelState, runtime: Runtime[LoopContext]) -> dict[str, Any]:
    return {**NODES["train"](state, runtime), "proposal": None}


# -- routers --------------------------------------------------------------------------------
Next = Literal["propose_more", "collect", "request_training", "__end__"]


def after_check_stop(state: ParallelState) -> Next:
    """On, or (stopping) first the experiments not yet recorded, then the end."""
    if state.get("stop_reason"):
        return "collect" if state.get("planned") else END
    return "propose_more"


def after_propose(state: ParallelState) -> Next:
    """To the experiments; to a training request once nothing else is in flight."""
    if state.get("stop_reason"):
        return after_check_stop(state)
    if waiting_training(state) and not state.get("planned"):
        return "request_training"
    return "collect"


def parallel_serializer() -> JsonPlusSerializer:
    return JsonPlusSerializer(
        allowed_msgpack_modules=[(cls.__module__, cls.__name__) for cls in PARALLEL_MODELS]
    )


def build_parallel_graph(checkpointer: BaseCheckpointSaver | None) -> CompiledStateGraph:
    graph = StateGraph(ParallelState, context_schema=LoopContext)
    nodes = {
        "check_stop": polled("check_stop", NODES["check_stop"]),
        "propose_more": polled("propose_more", propose_more),
        "collect": polled("collect", collect),
        "record_ready": polled("record_ready", record_ready),
        "request_training": polled("request_training", request_training),
        "train": polled("train", train),
    }
    for name, fn in nodes.items():  # the whole state in (polled's signature names LoopState)
        graph.add_node(name, fn, input_schema=ParallelState)
    graph.add_edge(START, "check_stop")
    graph.add_conditional_edges("check_stop", after_check_stop)
    graph.add_conditional_edges("propose_more", after_propose)
    graph.add_edge("collect", "record_ready")
    graph.add_edge("record_ready", "check_stop")
    graph.add_conditional_edges("request_training", after_request)
    graph.add_edge("train", "check_stop")
    return graph.compile(checkpointer=checkpointer)


@contextmanager
def workers(services: ParallelServices, options: ParallelOptions) -> Iterator[WorkerPool]:
    """Ray (local, or the cluster at `options.address`) and the pool, for one run."""
    ray = require_ray()
    cpus = math.ceil(options.workers * options.cpus_per_worker)
    started = connect(ray, options.address, cpus)
    try:
        services.pool = WorkerPool(ray, options.workers, options.cpus_per_worker)
        services.threads = ThreadPoolExecutor(options.workers, thread_name_prefix="experiment")
        yield services.pool
    finally:  # a driver stopped by an error leaves the experiments in flight to the resume
        if services.threads is not None:
            services.threads.shutdown(wait=False, cancel_futures=True)
        services.pool = None
        services.threads = None
        services.running.clear()
        if started:
            ray.shutdown()
