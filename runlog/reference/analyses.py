"""Reference analyses: the cloud ceiling and re-judging stored outputs, kept out of the run log.

- `run_ceiling`: the chosen agent (default: the current best) with only the candidate model
  swapped, on the same gate, judge, mode, rubric and decoding. Adapter levers are disabled when
  the model changes: their weights belong to the agent's own base model.
- `rejudge`: the stored candidate outputs of experiments judged again (no regeneration) with
  the judge that logged them, in standard mode (the control: through the verdict cache it
  reproduces the logged quality exactly) and, for coverage-blind, in that mode too.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from levers.config import AgentConfig, load_agent
from levers.registry import lever_classes
from models.registry import parse_spec
from ruler.gates import evaluate as evaluate_gate
from ruler.records import GateResult, JudgeMode
from runlog.evaluate import (
    Progress,
    agent_tree_hash,
    comparable_best,
    evaluate_config,
    materialize_agent,
    resolve_judge,
    resolve_ref,
    workspace_caches,
    workspace_ruler,
    workspace_verdict_cache,
)
from runlog.gitstore import MAIN, current_best
from runlog.records import ExperimentRecord, ReferenceRecord, experiment_id
from runlog.reference.store import REFERENCE_PATH, commit_reference, next_reference_id
from runlog.settings import WorkspaceError
from runlog.tags import experiment_commits
from runlog.workspace import Workspace


def swap_model(config: AgentConfig, model: str) -> tuple[AgentConfig, list[str]]:
    """The agent with only its model swapped; adapter levers disabled if the model changes."""
    if model == config.model:
        return config, []
    classes = lever_classes()
    dropped = [
        s.name
        for s in config.enabled_levers()
        if s.name in classes and classes[s.name].lever_class == "adapter"
    ]
    levers = [
        s.model_copy(update={"enabled": False}) if s.name in dropped else s for s in config.levers
    ]
    return config.model_copy(update={"model": model, "levers": levers}), dropped


def _agent_source(ws: Workspace, agent_ref: str | None) -> tuple[str, str | None]:
    """(commit of the agent to run, its experiment id or None); default: the current best."""
    if agent_ref is None:
        best = current_best(ws)
        if best is not None:
            return best.commit, best.id
        agent_ref = MAIN
    sha = resolve_ref(ws, agent_ref)
    by_commit = {commit: exp for exp, commit in experiment_commits(ws).items()}
    return sha, by_commit.get(sha)


def run_ceiling(
    ws: Workspace,
    candidate_spec: str,
    gate: str = "full-30",
    agent_ref: str | None = None,
    judge: Any = None,
    *,
    progress: Progress | None = None,
) -> ReferenceRecord:
    """Run the agent at `agent_ref` (default: the best) with `candidate_spec` as its model on
    `gate`, judged like the run log (the workspace's judge and mode), and commit the record."""
    parse_spec(candidate_spec)
    loaded = workspace_ruler(ws)
    loaded.gate_cases(gate)
    commit, source = _agent_source(ws, agent_ref)
    mode = ws.config.judge.mode
    judge = resolve_judge(judge or ws.config.judge.spec, loaded)
    with tempfile.TemporaryDirectory(prefix="autoresearch-agent-") as tmp:
        agent = load_agent(materialize_agent(ws, commit, Path(tmp)) / "agent.toml")
        config, dropped = swap_model(agent, candidate_spec)
        tree_hash = agent_tree_hash(ws, commit) + (":no-adapter" if dropped else "")
        evaluated = evaluate_config(
            config,
            gate=gate,
            judge=judge,
            mode=mode,
            ruler=loaded,
            tree_hash=tree_hash,
            baseline=comparable_best(ws, gate, mode, judge.judge_id),
            **workspace_caches(ws),
            progress=progress,
        )
    ref_id = next_reference_id(ws)
    record = ReferenceRecord(
        id=ref_id,
        kind="ceiling",
        title=f"{candidate_spec} as candidate on {gate}",
        description=_ceiling_description(agent.model, candidate_spec, source, commit, dropped)
        + _failures(evaluated.runs),
        source_experiment=source,
        gates=[evaluated.result],
        model_ids={"candidate": candidate_spec, "agent": agent.model, "judge": judge.judge_id},
        trace=[n.model_dump(mode="json") for n in evaluated.trace],
        outputs=f"{REFERENCE_PATH}/{ref_id}.jsonl",
    )
    commit_reference(ws, record, evaluated.outputs())
    return record


def _ceiling_description(
    original: str, candidate: str, source: str | None, commit: str, dropped: list[str]
) -> str:
    agent = f"exp{source}" if source else f"commit {commit[:10]}"
    text = (
        f"Cloud ceiling: the agent of {agent} with only its model swapped ({original} → "
        f"{candidate}); same gate, judge, mode, rubric and decoding."
    )
    if dropped:
        text += f" Disabled for the new model (weights of {original}): {', '.join(dropped)}."
    return text


def _failures(runs: list[Any]) -> str:
    failed = [r for r in runs if r.failed]
    if not failed:
        return ""
    return f" {len(failed)} of {len(runs)} cases failed (judged worst); first: {failed[0].error}"


def judge_spec_for(judge_id: str, ws: Workspace) -> str:
    """The judge spec behind a logged judge id (`llm:<model spec>[/c<contract>]`,
    `embedding:...`)."""
    if judge_id.startswith("llm:"):
        return re.sub(r"/c\d+$", "", judge_id[len("llm:") :])
    if judge_id.startswith("embedding"):
        return "embedding"
    return ws.config.judge.spec


def _stored(ws: Workspace, exp: str) -> tuple[ExperimentRecord, GateResult, dict[str, str]]:
    record = ws.record(exp)
    if record.result is None:
        raise WorkspaceError(f"exp{exp} has no gate result to re-judge ({record.status})")
    rows = ws.outputs(exp)
    if not rows:
        raise WorkspaceError(f"exp{exp} has no stored outputs ({ws.outputs_path(exp)} missing)")
    return record, record.result, {row.case_id: row.text for row in rows}


def rejudge(
    ws: Workspace,
    experiments: list[str],
    mode: JudgeMode,
    *,
    judge: Any = None,
    progress: Progress | None = None,
) -> ReferenceRecord:
    """Judge the stored outputs of `experiments` again, on each one's deciding gate, with the
    judge that logged it (or `judge`): standard mode first (the control), then `mode` if it
    differs. No candidate is regenerated; cached verdicts make the standard control free."""
    if not experiments:
        raise WorkspaceError("name at least one experiment to re-judge (e.g. exp001)")
    try:
        ids = list(dict.fromkeys(experiment_id(e) for e in experiments))
    except ValueError as exc:
        raise WorkspaceError(str(exc)) from None
    loaded, cache = workspace_ruler(ws), workspace_verdict_cache(ws)
    stored = {exp: _stored(ws, exp) for exp in ids}
    modes: list[JudgeMode] = ["standard"] if mode == "standard" else ["standard", mode]
    gates: list[GateResult] = []
    model_ids: dict[str, str] = {}
    judge_ids: list[str] = []
    for exp, (record, logged, candidates) in stored.items():
        judge_obj = resolve_judge(judge or judge_spec_for(logged.judge_id, ws), loaded)
        for m in modes:
            step = _judge_progress(progress, f"exp{exp} {m}")
            gates.append(
                evaluate_gate(
                    candidates, logged.gate, judge_obj, m, ruler=loaded, cache=cache, progress=step
                )
            )
        model_ids[f"exp{exp}"] = record.model_ids.get("candidate") or record.agent.get("model", "")
        judge_ids.append(judge_obj.judge_id)
    ref_id = next_reference_id(ws)
    names = ", ".join(f"exp{e}" for e in ids)
    record = ReferenceRecord(
        id=ref_id,
        kind="rejudge",
        title=f"{names} re-judged {mode}",
        description=(
            f"The stored candidate outputs of {names} judged again, no regeneration: standard "
            + (f"(the control) and {mode}." if mode != "standard" else "(the control).")
        ),
        source_experiment=",".join(ids),
        gates=gates,
        model_ids={"judge": ", ".join(dict.fromkeys(judge_ids)), **model_ids},
    )
    commit_reference(ws, record)
    return record


def _judge_progress(progress: Progress | None, stage: str) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress(stage, done, total)
