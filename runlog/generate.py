"""Generate a candidate's outputs for a gate's cases: through the output cache, in the agent's
own sandboxed pipeline process (`levers.worker`), never seeing the gold.

Outputs are keyed by the agent's fingerprint (its files, its validated config, the source of
every lever module that runs, the weights id and the project version). A decisive gate may look
halfway (`look`): the runs so far are handed to a callback, which may stop the gate there.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from levers.config import AgentConfig, validate_agent
from levers.feature import PLANNER, FeatureSpec
from levers.pipeline import PipelineError, discard, pipeline_for, release
from levers.registry import load_lever_files
from levers.runner import CandidateRun, Task, run_agent
from levers.sources import lever_sources, project_version, weights_id
from ruler.keep_policy import before_look
from ruler.records import Case
from runlog.boundary import Boundary
from runlog.cache import OutputCache, output_key

Look = Callable[[list[CandidateRun]], str]  # the runs so far -> why to stop ('' to go on)

# a gate's pipeline past this is killed and its experiment failed (a lever that hangs or spins);
# SmolLM2 runs full-30 in 2-3 minutes here
GATE_TIMEOUT = float(os.environ.get("AUTORESEARCH_GATE_TIMEOUT", 3600))


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
    stopped: str = ""  # why the look stopped the gate before its last case

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
    look: Look | None = None,
) -> Generated:
    """Run the candidate on the cases the cache does not hold (cached only with `tree_hash`),
    in the lever pipeline process unless `isolate` is off; nothing is cached here. With `look`,
    the first half of those cases runs, then `look` sees every run so far and may stop the
    gate there."""
    pipeline = Pipeline(config, agent_dir, workspace, isolate, feature=feature)
    stopped = ""
    try:
        config, deps = pipeline.prepare()
        fingerprint = agent_fingerprint(tree_hash or "", config, deps)
        keys = {
            c.id: output_key(fingerprint, config.model, boundary.ruler_hash, c.id) for c in cases
        }
        cached = cached_runs(cache if tree_hash else None, keys)
        todo = [c for c in cases if c.id not in cached]
        first = before_look(len(todo)) if look and len(todo) > 1 else len(todo)
        fresh = pipeline.run(config, todo[:first], _from(progress, 0, len(todo))) if todo else []
        if first < len(todo):
            assert look is not None
            stopped = look([*cached.values(), *fresh])
            if not stopped:
                rest = pipeline.run(config, todo[first:], _from(progress, first, len(todo)))
                fresh += rest
    finally:
        pipeline.release()
    sandbox = str(deps.get("sandbox") or "in-process (unsandboxed)")
    return Generated(config, fingerprint, keys, cached, fresh, bool(tree_hash), sandbox, stopped)


def _from(
    progress: Callable[[int, int], None] | None, start: int, total: int
) -> Callable[[int, int], None] | None:
    """A part's progress as the whole gate's (its cases start at `start` of `total`)."""
    return None if progress is None else (lambda done, _: progress(start + done, total))
