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
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from levers.config import BASELINE_AGENT, AgentConfig, dump_agent, read_agent, validate_agent
from levers.feature import PLANNER, FeatureSpec
from levers.pipeline import PipelineError, discard, pipeline_for, release
from levers.registry import load_lever_files
from levers.runner import CandidateRun, Task, run_agent
from levers.sources import lever_sources, project_version, weights_id
from levers.trace import TraceNode
from ruler.cache import PinnedVerdicts, VerdictCache
from ruler.gates import evaluate as evaluate_gate
from ruler.judges import get_judge
from ruler.loader import Ruler, load_ruler
from ruler.records import Case, GateResult, JudgeMode
from runlog.boundary import Boundary, GateIntegrityError
from runlog.cache import OutputCache, output_key
from runlog.check import CheckError, check_expression, check_values, parse_check
from runlog.feature_spec import answer_of, feature_spec, judged_reading, problems_of
from runlog.folder import WorkspaceFolder
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
# a gate's pipeline past this is killed and its experiment failed (a lever that hangs or spins);
# SmolLM2 runs full-30 in 2-3 minutes here
GATE_TIMEOUT = float(os.environ.get("AUTORESEARCH_GATE_TIMEOUT", 3600))


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


@dataclass
class Pipeline:
    """How an agent's pipeline runs: in its own process (`levers.worker`), or in this one."""

    config: AgentConfig
    agent_dir: Path | None
    workspace: Path | None
    isolate: bool
    worker: Any = None
    feature: FeatureSpec = PLANNER

    def prepare(self) -> tuple[AgentConfig, dict[str, Any]]:
        """The validated agent and what its outputs depend on (code hashes, weights, version)."""
        if self.isolate:
            raw = self.config.model_dump(mode="json")
            feature = None if self.feature is PLANNER else self.feature
            self.worker = pipeline_for(raw, self.agent_dir, self.workspace, feature)
            prepared = self.worker.prepared
            return AgentConfig.model_validate(prepared["config"]), prepared
        if self.agent_dir is not None and (self.agent_dir / "levers").is_dir():
            load_lever_files(self.agent_dir / "levers")
        config = validate_agent(self.config)
        deps = {
            "sources": lever_sources(config),
            "weights": weights_id(config.model),
            "version": project_version(),
        }
        return config, deps

    def run(self, config: AgentConfig, cases: list[Case], progress: Any) -> list[CandidateRun]:
        if not self.isolate:
            return run_agent(
                config, cases, workspace=self.workspace, progress=progress, feature=self.feature
            )
        try:
            reply = self.worker.request(
                "run",
                on_progress=progress,
                timeout=GATE_TIMEOUT,
                cases=[Task.of(c).model_dump(mode="json") for c in cases],  # never the gold
            )
            runs = [CandidateRun.model_validate(r) for r in reply["runs"]]
            if [r.case_id for r in runs] != [c.id for c in cases]:
                raise PipelineError("the lever pipeline answered for other cases than asked")
        except (ValueError, KeyError, TypeError) as exc:
            self.discard()
            raise PipelineError(f"the lever pipeline sent malformed runs: {exc}") from None
        except PipelineError:
            self.discard()  # a worker that broke the boundary is not reused
            raise
        return runs

    def discard(self) -> None:
        if self.worker is not None:
            discard(self.worker)
            self.worker = None

    def release(self) -> None:
        """Done with the worker (it stays warm for this agent's next gate)."""
        if self.worker is not None:
            release(self.worker)
            self.worker = None


def agent_fingerprint(tree_hash: str, config: AgentConfig, deps: dict[str, Any]) -> str:
    """What candidate outputs are keyed by: the agent's files (tree hash), its validated config,
    the source of every lever module that runs, the model's weights id and the project version."""
    payload = [
        tree_hash,
        config.model_dump(mode="json"),
        sorted(deps["sources"].items()),
        deps["weights"],
        deps["version"],
    ]
    return "agent:" + hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def cached_runs(cache: OutputCache | None, keys: dict[str, str]) -> dict[str, CandidateRun]:
    """Case id → the cached run, for the cases `cache` holds (none without a cache)."""
    found: dict[str, CandidateRun] = {}
    for case_id, key in keys.items() if cache is not None else ():
        if (hit := cache.get(key)) is not None:
            found[case_id] = CandidateRun.model_validate(hit)
    return found


@dataclass
class Generated:
    """The candidate's runs of some cases: those the cache held, and those run now."""

    config: AgentConfig  # as the pipeline validated it
    fingerprint: str
    keys: dict[str, str]  # case id → output-cache key
    cached: dict[str, CandidateRun]
    fresh: list[CandidateRun]
    keyed: bool  # outputs go through the cache (a tree hash was given)
    sandbox: str = ""  # what confined the lever code (the pipeline process says)

    def store(self, cache: OutputCache | None) -> None:
        """Cache the fresh runs that did not fail (after the boundary was checked)."""
        for run in self.fresh if cache is not None and self.keyed else ():
            if not run.failed:
                cache.put(self.keys[run.case_id], run.model_dump(mode="json"))


def generate(
    config: AgentConfig,
    cases: list[Case],
    boundary: Boundary,
    tree_hash: str | None,
    cache: OutputCache | None,
    agent_dir: Path | None,
    workspace: Path | None,
    isolate: bool,
    progress: Callable[[int, int], None] | None = None,
    feature: FeatureSpec = PLANNER,
) -> Generated:
    """Run the candidate on the cases the cache does not hold (cached only with `tree_hash`),
    in the lever pipeline process unless `isolate` is off; nothing is cached here."""
    pipeline = Pipeline(config, agent_dir, workspace, isolate, feature=feature)
    try:
        config, deps = pipeline.prepare()
        fingerprint = agent_fingerprint(tree_hash or "", config, deps)
        keys = {
            c.id: output_key(fingerprint, config.model, boundary.ruler_hash, c.id) for c in cases
        }
        cached = cached_runs(cache if tree_hash else None, keys)
        todo = [c for c in cases if c.id not in cached]
        fresh = pipeline.run(config, todo, progress) if todo else []
    finally:
        pipeline.release()
    sandbox = str(deps.get("sandbox") or "in-process (unsandboxed)")
    return Generated(config, fingerprint, keys, cached, fresh, bool(tree_hash), sandbox)


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
) -> EvalResult:
    """Run `config` (with `agent_dir`'s lever files) on the gate's cases and judge them.

    The pipeline runs in its own sandboxed process (`isolate=False` runs lever code here: only
    for tests that show what the boundary prevents); outputs come through `cache` when
    `tree_hash` is given; the ruler and the judge's code are checked before and after
    (GateIntegrityError when they moved).
    """
    started = time.perf_counter()
    loaded = load_ruler(ruler) if isinstance(ruler, str | Path) else ruler
    judge = resolve_judge(judge, loaded)
    boundary = Boundary.take(loaded, judge)
    cases = loaded.gate_cases(gate)
    verdicts = verdict_cache.pinned() if isinstance(verdict_cache, VerdictCache) else verdict_cache
    run_progress = (lambda d, t: progress("run", d, t)) if progress else None
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
    )
    boundary.check(gate)
    made.store(cache)
    config, cached, fresh, fingerprint = made.config, made.cached, made.fresh, made.fingerprint
    runs_by_case = {**cached, **{r.case_id: r for r in fresh}}
    runs = [judged_reading(runs_by_case[c.id], loaded) for c in cases]
    result = evaluate_gate(
        {r.case_id: r.text for r in runs},
        gate,
        judge,
        mode,
        ruler=loaded,
        baseline=baseline,
        cache=verdicts,
        progress=(lambda d, t: progress("judge", d, t)) if progress else None,
    )
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
