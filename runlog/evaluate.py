"""Evaluate an agent on a gate: the workspace's, the one at a git ref, or any agent.toml.

The agent's pipeline (every lever, the candidate model) runs in its own process
(`levers.worker`); this process only judges, and checks the ruler lock and the judge's source
before and after every gate. Candidates come through the output cache (keyed by the agent's
files, its config, the source of every lever module that runs, the weights id and the project
version), verdicts through the ruler's verdict cache as it was before the pipeline ran, so
re-evaluating an unchanged agent makes no model calls.
An agent at a ref is read from git into a temporary folder; the user's tree is not touched.
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from levers.config import BASELINE_AGENT, AgentConfig, dump_agent, read_agent
from levers.runner import CandidateRun
from levers.trace import TraceNode
from ruler.cache import PinnedVerdicts, VerdictCache
from ruler.gates import evaluate as evaluate_gate
from ruler.judges import get_judge
from ruler.keep_policy import Futility
from ruler.loader import Ruler, load_ruler
from ruler.records import GateResult, JudgeMode, Verdict
from runlog.boundary import Boundary, GateIntegrityError
from runlog.cache import OutputCache
from runlog.check import CheckError, check_expression, check_values, parse_check
from runlog.feature_spec import answer_of, feature_spec, judged_reading, problems_of
from runlog.folder import WorkspaceFolder
from runlog.generate import generate
from runlog.records import OutputRow, experiment_id
from runlog.settings import WorkspaceError
from runlog.workspace import Workspace

__all__ = [
    "CheckError",
    "EvalResult",
    "GateIntegrityError",
    "check_expression",
    "check_values",
    "evaluate_agent_file",
    "evaluate_config",
    "evaluate_workspace",
    "parse_check",
]

Progress = Callable[[str, int, int], None]  # (stage "run" | "judge", done, total)


@dataclass
class EvalResult:
    """One evaluation: the gate result, the candidate runs, and what it cost in model calls."""

    result: GateResult
    runs: list[CandidateRun]
    agent: AgentConfig
    tree_hash: str
    model_id: str
    ref: str | None = None
    model_calls: int = 0
    cached_cases: int = 0
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def trace(self) -> list[TraceNode]:
        """The process diagram: the trace of the first case that ran without failing."""
        ok = [r for r in self.runs if not r.failed and r.trace]
        return (ok or self.runs)[0].trace if self.runs else []

    def outputs(self) -> list[OutputRow]:
        """Per-case rows for `runlog/outputs/NNN.jsonl`."""
        by_case: dict[str, list] = {}
        for verdict in self.result.verdicts:
            by_case.setdefault(verdict.case_id, []).append(verdict)
        return [
            OutputRow(
                case_id=run.case_id,
                text=run.text,
                plan=answer_of(run),
                problems=problems_of(run),
                failed=run.failed,
                error=run.error,
                verdicts=by_case.get(run.case_id, []),
                trace=[n.model_dump() for n in run.trace],
            )
            for run in self.runs
        ]

    def check(self, expr: str) -> bool:
        return check_expression(expr, self.result)


def resolve_judge(judge: Any, ruler: Any = None):
    """A judge from its spec ("embedding", a model spec), or a Judge object as it is."""
    if not isinstance(judge, str):
        return judge
    return get_judge(judge, ruler=ruler)


def _inference_calls(runs: list[CandidateRun]) -> int:
    kinds = ("inference", "adapter_inference")
    return sum(1 for run in runs for node in run.trace if node.kind in kinds)


def evaluate_config(
    config: AgentConfig,
    *,
    gate: str,
    judge: Any = "embedding",
    mode: JudgeMode = "standard",
    ruler: Any = "planner",
    tree_hash: str | None = None,
    cache: OutputCache | None = None,
    verdict_cache: Any = None,
    workspace: Path | None = None,
    baseline: GateResult | None = None,
    progress: Progress | None = None,
    agent_dir: Path | None = None,
    isolate: bool = True,
    futility: Futility | None = None,
) -> EvalResult:
    """Run `config` (with `agent_dir`'s lever files) on the gate's cases and judge them.

    The pipeline runs in its own sandboxed process (`isolate=False` runs lever code here: only
    for tests that show what the boundary prevents); outputs come through `cache` when
    `tree_hash` is given; the ruler and the judge's code are checked before and after
    (GateIntegrityError when they moved). With `futility` (a decisive gate), the cases run so
    far are judged halfway and the gate stops there when a keep has become unlikely: the
    result then covers those cases and says why (`GateResult.stopped`).
    """
    started = time.perf_counter()
    loaded = load_ruler(ruler) if isinstance(ruler, str | Path) else ruler
    judge = resolve_judge(judge, loaded)
    boundary = Boundary.take(loaded, judge)
    cases = loaded.gate_cases(gate)
    verdicts = verdict_cache.pinned() if isinstance(verdict_cache, VerdictCache) else verdict_cache
    run_progress = (lambda d, t: progress("run", d, t)) if progress else None
    look = futility and Halfway(futility, gate, judge, mode, loaded, boundary, verdicts)
    made = generate(
        config,
        cases,
        boundary,
        tree_hash,
        cache,
        agent_dir,
        workspace,
        isolate,
        run_progress,
        feature_spec(loaded),
        look=look,
    )
    boundary.check(gate)
    made.store(cache)
    config, cached, fresh, fingerprint = made.config, made.cached, made.fresh, made.fingerprint
    runs_by_case = {**cached, **{r.case_id: r for r in fresh}}
    runs = [judged_reading(runs_by_case[c.id], loaded) for c in cases if c.id in runs_by_case]
    result = evaluate_gate(
        {r.case_id: r.text for r in runs},
        gate,
        judge,
        mode,
        ruler=loaded,
        baseline=baseline,
        cache=look or verdicts,
        progress=(lambda d, t: progress("judge", d, t)) if progress else None,
        only=set(runs_by_case) if made.stopped else None,
    )
    result.stopped = made.stopped
    if look:
        look.add_to(result)
    boundary.check(gate)
    if refused := getattr(verdicts, "refused", []):
        raise GateIntegrityError(
            f"gate {gate}: {len(refused)} verdict cache row(s) were not signed by a judging "
            "process (lever code or a hand edit wrote them); the result is not trusted"
        )
    return EvalResult(
        result=result,
        runs=runs,
        agent=config,
        tree_hash=tree_hash or "",
        model_id=config.model,
        model_calls=_inference_calls(fresh),
        cached_cases=len(cached),
        extra={
            "cached": sorted(cached),
            "fingerprint": fingerprint,
            "isolated": isolate,
            "sandbox": made.sandbox,
        },
        seconds=round(time.perf_counter() - started, 3),
    )


@dataclass
class Halfway:
    """The decisive gate's look: judge the runs so far, then ask `futility` whether a keep is
    still likely once the rest are in. Its verdicts are served again at the end (`own`: the
    pinned cache would judge them again) and its judging is added to the gate's (`add_to`)."""

    futility: Futility
    gate: str
    judge: Any
    mode: JudgeMode
    ruler: Ruler
    boundary: Boundary
    cache: Any  # the gate's verdict cache (pinned), or None
    own: dict[str, Verdict] = field(default_factory=dict)
    partial: GateResult | None = None

    def __call__(self, runs: list[CandidateRun]) -> str:
        self.boundary.check(self.gate)  # nothing the judge runs moved before it judges
        read = [judged_reading(r, self.ruler) for r in runs]
        self.partial = evaluate_gate(
            {r.case_id: r.text for r in read},
            self.gate,
            self.judge,
            self.mode,
            ruler=self.ruler,
            cache=self,
            only={r.case_id for r in read},
        )
        total = len(self.ruler.gate_cases(self.gate))
        return self.futility.check(self.partial.per_case_quality, total - len(runs))

    def get(self, key: str) -> Verdict | None:
        return self.own.get(key) or (self.cache.get(key) if self.cache is not None else None)

    def put(self, key: str, verdict: Verdict) -> None:
        self.own[key] = verdict
        if self.cache is not None:
            self.cache.put(key, verdict)

    def add_to(self, result: GateResult) -> None:
        """Count the look's judging in the gate's result."""
        if self.partial is not None:
            judged_here = {v.case_id for v in self.partial.verdicts if not v.cached}
            result.judge_seconds += self.partial.judge_seconds
            result.judge_cost_usd += self.partial.judge_cost_usd
            result.judge_calls += self.partial.judge_calls
            result.verdicts = [
                v.model_copy(update={"cached": False}) if v.case_id in judged_here else v
                for v in result.verdicts
            ]


# --- the workspace agent, or the agent at a ref ------------------------------------------------


def agent_tree_hash(ws: Workspace, ref: str | None = None) -> str:
    """The git tree hash of `agent/` at `ref`, or of the work tree's `agent/` as it is now."""
    with ws.repo() as repo:
        if ref is not None:
            return repo.git.rev_parse(f"{resolve_ref(ws, ref)}:agent")
        with tempfile.TemporaryDirectory(prefix="autoresearch-index-") as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            repo.git.add("-A", "--", "agent", env=env)
            return repo.git.write_tree("--prefix=agent/", env=env)


def resolve_ref(ws: Workspace, ref: str) -> str:
    """A commit sha for REF; `exp007`, `7` and `007` mean the tag `exp/007`."""
    candidates = [ref]
    with contextlib.suppress(ValueError):
        candidates.append(f"exp/{experiment_id(ref)}")
    with ws.repo() as repo:
        for name in candidates:
            try:
                return repo.git.rev_parse("--verify", "--quiet", f"{name}^{{commit}}")
            except Exception:  # noqa: BLE001 (GitCommandError: try the next spelling)
                continue
    raise WorkspaceError(f"{ws.root}: no commit {ref!r} (try a tag such as exp/001, or a sha)")


def materialize_agent(ws: Workspace, ref: str, dest: Path) -> Path:
    """Write `agent/` as it is at `ref` into `dest/agent`; returns that folder."""
    with ws.repo() as repo:
        tree = repo.commit(resolve_ref(ws, ref)).tree / "agent"
        for blob in tree.traverse():
            if blob.type != "blob":
                continue
            target = dest / blob.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob.data_stream.read())
    return dest / "agent"


def workspace_verdict_cache(ws: WorkspaceFolder) -> VerdictCache:
    """The workspace's verdict cache (shared by its worktrees)."""
    return VerdictCache(ws.cache_dir / "verdicts.sqlite")


def workspace_caches(ws: Workspace | None, *, no_cache: bool = False) -> dict[str, Any]:
    """`evaluate_config`'s cache arguments for a workspace: its output and verdict caches and
    root (adapters, lever files); none outside a workspace. The output cache is left out with
    `no_cache` or the workspace's `[cache] outputs = false`."""
    if ws is None:
        return {"cache": None, "verdict_cache": None, "workspace": None}
    use_outputs = not no_cache and ws.config.cache.outputs
    return {
        "cache": OutputCache(ws.cache_dir / "outputs.sqlite") if use_outputs else None,
        "verdict_cache": workspace_verdict_cache(ws),
        "workspace": ws.main_root,
    }


def workspace_ruler(ws: WorkspaceFolder) -> Ruler:
    """The workspace's ruler, refused when it changed since the workspace pinned its hash."""
    ruler = load_ruler(ws.config.ruler.name)
    pinned = ws.config.ruler.lock_hash
    if ruler.verify() != pinned:
        raise WorkspaceError(
            f"{ws.root / 'autoresearch.toml'}: ruler {ws.config.ruler.name!r} changed since this "
            f"workspace pinned it ({pinned[:12]}, now {ruler.lock_hash[:12]}); results would not "
            "compare; use a new workspace for the new ruler"
        )
    return ruler


def evaluate_workspace(
    ws: Workspace,
    *,
    ref: str | None = None,
    gate: str | None = None,
    judge: Any = None,
    mode: JudgeMode | None = None,
    model: str | None = None,
    baseline: GateResult | None = None,
    compare_best: bool = True,
    progress: Progress | None = None,
    no_cache: bool = False,
    verdicts: PinnedVerdicts | None = None,
) -> EvalResult:
    """Evaluate the work tree's agent (or the agent at `ref`) on `gate` (default: the keep gate).

    With `compare_best`, a result on the same gate, mode and judge as the current best carries a
    paired comparison against it (so `--check "delta>0"` works). `verdicts` is the experiment's
    view of the verdict cache, pinned before its first gate (a fresh pin per call without it).
    """
    loaded = workspace_ruler(ws)
    gate, mode = gate or ws.config.keep.gate, mode or ws.config.judge.mode
    judge = resolve_judge(judge or ws.config.judge.spec, loaded)
    if baseline is None and compare_best:
        baseline = comparable_best(ws, gate, mode, judge.judge_id)
    with tempfile.TemporaryDirectory(prefix="autoresearch-agent-") as tmp:
        agent_dir = materialize_agent(ws, ref, Path(tmp)) if ref else ws.agent_dir
        tree_hash = agent_tree_hash(ws, ref)
        config = read_agent(agent_dir / "agent.toml")  # levers load in the pipeline process
        if model:
            config = config.model_copy(update={"model": model})
        result = evaluate_config(
            config,
            gate=gate,
            judge=judge,
            mode=mode,
            ruler=loaded,
            tree_hash=tree_hash,
            baseline=baseline,
            **{
                **workspace_caches(ws, no_cache=no_cache),
                **({"verdict_cache": verdicts} if verdicts is not None else {}),
            },
            progress=progress,
            agent_dir=agent_dir,
        )
    result.ref = ref
    return result


def comparable_best(ws: Workspace, gate: str, mode: str, judge_id: str) -> GateResult | None:
    """The current best's result on the same gate, mode and judge (what a new one pairs with)."""
    best = ws.current_best()
    for result in reversed(best.record.gates if best else []):
        if (result.gate, result.mode, result.judge_id) == (gate, mode, judge_id):
            return result
    return None


def _folder_hash(agent_file: Path) -> str:
    """A content hash of an agent file and its sibling levers/ (for agents outside git)."""
    digest = hashlib.sha256(agent_file.read_bytes())
    levers = agent_file.parent / "levers"
    for path in sorted(levers.glob("*.py")) if levers.is_dir() else []:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return "files:" + digest.hexdigest()


def evaluate_agent_file(
    agent_file: Path | None,
    *,
    gate: str = "dev-10",
    judge: Any = "embedding",
    mode: JudgeMode = "standard",
    model: str | None = None,
    ws: Workspace | None = None,
    progress: Progress | None = None,
    no_cache: bool = False,
) -> EvalResult:
    """Evaluate any agent.toml (its sibling levers/ loaded), or the built-in baseline for None.

    Outputs are cached (in `ws`'s cache) when a workspace is given.
    """
    config = read_agent(agent_file) if agent_file else BASELINE_AGENT
    if model:
        config = config.model_copy(update={"model": model})
    if agent_file:
        tree_hash = _folder_hash(agent_file)
    else:
        tree_hash = "baseline:" + hashlib.sha256(dump_agent(BASELINE_AGENT).encode()).hexdigest()
    result = evaluate_config(
        config,
        gate=gate,
        judge=judge,
        mode=mode,
        ruler=ws.config.ruler.name if ws else "planner",
        tree_hash=tree_hash,
        **workspace_caches(ws, no_cache=no_cache),
        progress=progress,
        agent_dir=agent_file.parent if agent_file else None,
    )
    result.extra["agent"] = str(agent_file) if agent_file else "built-in baseline"
    return result
