"""Experiments run and recorded (mixed into `WorkspaceServices`): each planned experiment in a
driver thread that prepares its agent folder under `.autoresearch/parallel/<id>/`, validates its
lever inside the proposed agent, and runs its gates on a borrowed worker; then, in id order,
its outcome decided against the best at that moment (`orchestrator.gates`, `ruler.keep_policy`)
and committed. The driver alone touches git and the work tree's `agent/`."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path

from levers.config import AgentConfig, dump_agent, read_agent
from models import AutoresearchError
from models.files import atomic_write_text
from orchestrator.budget import Budget
from orchestrator.change import describe_change
from orchestrator.gates import (
    adapter_of,
    comparable_baseline,
    confirm_gate,
    every_case_failed,
    keep_decision,
    one_line,
    worth_confirming,
)
from orchestrator.lever_check import validate_and_repair
from orchestrator.pool.jobs import GateJob, GateRun
from orchestrator.pool.local import LocalPool
from orchestrator.pool.options import PoolOptions
from orchestrator.ray_workers import WorkerCrash, WorkerPool
from orchestrator.researchers.base import apply_patch
from orchestrator.state import ExperimentRun, Outcome, Planned
from ruler.quality import compare
from ruler.records import GateResult
from runlog.evaluate import Progress, workspace_ruler
from runlog.records import ExperimentRecord
from runlog.workspace import Workspace


def against(result: GateResult, baseline: GateResult | None) -> GateResult:
    """`result` with its paired comparison against `baseline` (none without one)."""
    comparison = compare(result, baseline) if baseline is not None else None
    return result.model_copy(update={"comparison": comparison})


class Experiments:
    """The services' experiments (mixed into `WorkspaceServices`): each planned one run in a
    driver thread on a borrowed worker, then recorded in id order by the driver."""

    ws: Workspace
    budget: Budget
    options: PoolOptions
    pool: WorkerPool | LocalPool | None
    threads: ThreadPoolExecutor | None
    running: dict[str, Future[ExperimentRun]]
    in_flight: dict[str, str]  # experiment id → worker
    node_seconds: dict[str, float]
    _lock: threading.Lock
    _tree: threading.Lock  # agent/ and the best

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

    # -- run_pool ---------------------------------------------------------------------------
    def start(self, planned: Planned) -> None:
        """Run `planned` in a driver thread, unless it is already running."""
        assert self.threads is not None, "the experiment threads start with the run"
        if planned.exp_id not in self.running:
            self.running[planned.exp_id] = self.threads.submit(self.run_experiment, planned)

    def start_and_await_first(self, flying: list[Planned]) -> dict[str, ExperimentRun]:
        """Start whatever in `flying` is not running (just planned, or left by a killed
        driver); wait for the first to finish; every finished one."""
        for planned in flying:
            self.start(planned)
        futures = {self.running[p.exp_id]: p.exp_id for p in flying}
        done, _ = wait(futures, return_when=FIRST_COMPLETED)
        finished: dict[str, ExperimentRun] = {}
        for future in done:
            exp = futures[future]
            del self.running[exp]
            try:
                finished[exp] = future.result()
            except Exception as exc:  # the driver thread failed: the experiment, not the loop
                failure = f"{type(exc).__name__}: {exc}"[:500]
                finished[exp] = ExperimentRun(exp_id=exp, failure=failure)
        return finished

    def experiment_dir(self, exp_id: str) -> Path:
        return self.ws.state_dir / "parallel" / exp_id

    # -- run_experiment (a driver thread per experiment) -----------------------------------
    def prepare(self, planned: Planned) -> tuple[ExperimentRun, str | None]:
        """Write the experiment's agent folder (the best's, patched, with its lever module);
        its tree hash, or None with the failure in `ExperimentRun`."""
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
        finished = ExperimentRun(exp_id=exp, agent=agent, lever_path=lever)
        finished.method = describe_change(parent, agent, lever)
        if planned.proposal_error:
            finished.failure = planned.proposal_error
            return finished, None
        if lever:  # validated inside the proposed agent, as the sequential loop's
            checked = validate_and_repair(
                self, exp, proposal, lever, agent_dir=root / "agent", parent=parent
            )
            if checked.repaired is not None:
                finished.proposal, finished.lever_path = checked.repaired, checked.path
            if not checked.report.ok:
                report = checked.report
                finished.failure = f"lever validation failed at {report.stage}: {report.message}"
                return finished, None
        if finished.proposal is not None:  # repaired: its own patch
            agent = apply_patch(parent, finished.proposal.agent_patch)
        try:  # checked here, its levers loaded only in the pipeline process (the boundary)
            atomic_write_text(root / "agent" / "agent.toml", dump_agent(AgentConfig(**agent)))
            config = read_agent(root / "agent" / "agent.toml")
        except (AutoresearchError, ValueError) as exc:
            finished.failure = one_line(exc)
            return finished, None
        finished.agent = config.model_dump(mode="json")
        finished.adapter_hash = adapter_of(config)
        return finished, agent_tree_hash(self.ws.root, root)

    def job(
        self, exp_id: str, gate: str, tree_hash: str, best: ExperimentRecord | None = None
    ) -> GateJob:
        """One gate of the experiment; a confirm gate against `best` may stop halfway."""
        baseline = comparable_baseline(self.ws, best, gate, []) if best else None
        return GateJob(
            exp_id=exp_id,
            root=str(self.ws.main_root),
            agent_dir=str(self.experiment_dir(exp_id) / "agent"),
            tree_hash=tree_hash,
            gate=gate,
            futility=self.ws.config.keep.futility_for(
                baseline.per_case_quality if baseline else None
            ),
        )

    def run_gate_job(self, index: int, job: GateJob) -> GateRun:
        assert self.pool is not None, "the worker pool starts with the run"
        if not self.options.shard_cases:
            return self.pool.run(index, job, self._progress(job.exp_id, job.gate))
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

    def run_experiment(self, planned: Planned) -> ExperimentRun:
        started = time.perf_counter()
        finished, tree_hash = self.prepare(planned)
        if tree_hash is None:
            return finished
        assert self.pool is not None, "the worker pool starts with the run"
        keep = self.ws.config.keep
        best = self.ws.current_best()
        record = best.record if best else None
        with self.pool.borrow() as index:
            finished.worker = self.pool.names[index]
            self._flying(planned.exp_id, finished.worker)
            try:
                dev = self.run_gate_job(index, self.job(planned.exp_id, keep.gate, tree_hash))
                finished.runs.append(dev)
                confirm = confirm_gate(keep)
                if confirm and dev.result and self._promising(record, dev.result):
                    job = self.job(planned.exp_id, confirm, tree_hash, record)
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

    def _progress(self, exp_id: str, gate: str) -> Progress:
        """Gate progress for the live status and the progress stream (a local pool reports it;
        Ray's workers run elsewhere and report the gate when it ends)."""

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

    def _promising(self, record: ExperimentRecord | None, dev: GateResult) -> bool:
        """Worth the confirm gate against the best at dispatch (record_ready decides again)."""
        baseline = comparable_baseline(self.ws, record, self.ws.config.keep.gate, [])
        return worth_confirming(self.ws.config.keep, record, against(dev, baseline))

    def _flying(self, exp_id: str, worker: str | None) -> None:
        with self._lock:
            if worker is None:
                self.in_flight.pop(exp_id, None)
            else:
                self.in_flight[exp_id] = worker
        self.publish_status("running", node="run_experiment", experiment=exp_id)
        self.emit("node", node="run_experiment", experiment=exp_id, worker=worker or "")

    # -- record_ready (the driver alone, in id order) --------------------------------------
    def outcome(self, finished: ExperimentRun) -> Outcome:
        """The experiment's outcome, decided against the best now (`orchestrator.gates`: the
        comparable best, the `[keep] screen` rule, the keep decision)."""
        base = {"method": finished.method, "agent": finished.agent, "seconds": finished.seconds}
        if finished.failure or not finished.runs or finished.runs[0].result is None:
            return Outcome.failed(finished.failure or "no gate result", **base)
        keep, best = self.ws.config.keep, self.ws.current_best()
        record = best.record if best else None
        notes: list[str] = []  # how the best's results were made comparable
        first = finished.runs[0]
        dev = against(first.result, comparable_baseline(self.ws, record, keep.gate, notes))
        counted = [first.model_copy(update={"result": dev})]
        confirm = confirm_gate(keep)
        if confirm and worth_confirming(keep, record, dev):
            run = next((r for r in finished.runs[1:] if r.gate == confirm), None)
            if run is None:  # the best changed since the dispatch: now it is worth running
                run = self._confirm_now(finished, confirm, record)
                if run.failure or run.result is None:
                    return Outcome.failed(run.failure or "no confirm-gate result", **base)
            baseline = comparable_baseline(self.ws, record, confirm, notes)
            counted.append(run.model_copy(update={"result": against(run.result, baseline)}))
        last = counted[-1]
        broken = every_case_failed([(r.gate, r.outputs) for r in counted])
        if broken:  # nothing was measured: failed, never kept (a baseline included)
            return Outcome.failed(broken, outputs=last.outputs, **base)
        gates = [r.result for r in counted if r.result]
        status, why = keep_decision(keep, record, gates, notes)
        return Outcome(
            status=status,  # type: ignore[arg-type]
            decision=why,
            gates=gates,
            outputs=last.outputs,
            trace=self.training_trace(finished.adapter_hash) + last.trace,
            cost_usd=sum(r.cost_usd for r in finished.runs),
            model_seconds=sum(r.model_seconds for r in finished.runs),
            judge_seconds=sum(r.judge_seconds for r in finished.runs),
            model_ids={"candidate": last.model_id, "judge": last.judge_id},
            adapter_hash=finished.adapter_hash,
            **base,
        )

    def _confirm_now(
        self, finished: ExperimentRun, gate: str, best: ExperimentRecord | None
    ) -> GateRun:
        assert self.pool is not None, "the worker pool starts with the run"
        root = self.experiment_dir(finished.exp_id)
        job = self.job(finished.exp_id, gate, agent_tree_hash(self.ws.root, root), best)
        with self.pool.borrow() as index:
            try:
                run = self.run_gate_job(index, job)
            except WorkerCrash as exc:
                return GateRun(exp_id=finished.exp_id, gate=gate, failure=str(exc))
        finished.runs.append(run)
        return run

    def record_planned(self, planned: Planned, finished: ExperimentRun) -> str:
        """Commit one experiment (a second call for the same id changes nothing)."""
        if self.ws.record_path(planned.exp_id).is_file():
            return ""
        outcome = self.outcome(finished)
        folder = self.experiment_dir(planned.exp_id) / "agent"
        self.node_seconds = {"run_experiment": finished.seconds}
        with self._tree:
            if folder.is_dir():
                sync_tree(folder, self.ws.agent_dir)
            commit = self.record(
                planned.exp_id,
                finished.proposal or planned.proposal,
                outcome,
                lever_path=finished.lever_path,
                notes_seen=planned.notes_seen,
            )
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
