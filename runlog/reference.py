"""Reference analyses: the cloud ceiling and re-judging stored outputs, kept out of the run log.

A reference record (`runlog/reference/refNNN.json`, outputs beside it as `refNNN.jsonl`) is
committed like a discarded experiment: one commit whose parent is `main` (the best at the time),
holding main's tree plus `runlog/reference/`, reachable by the tag `ref/NNN`. `main` never moves
to it and results.tsv never lists it, so main's kept line and `git bisect` on it are untouched;
the files stay in the work tree, so the next experiment commit on main carries them too.

- `run_ceiling`: the chosen agent (default: the current best) with only the candidate model
  swapped, on the same gate, judge, mode, rubric and decoding. Adapter levers are disabled when
  the model changes: their weights belong to the agent's own base model.
- `rejudge`: the stored candidate outputs of experiments judged again (no regeneration) with
  the judge that logged them, in standard mode (the control: through the verdict cache it
  reproduces the logged quality exactly) and, for coverage-blind, in that mode too.
- `ceiling_table`, `scored_as_candidate`, `rejudge_table`, `reference_view`: plain data for the
  CLI, the dashboard and the TUI (no printing here).
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from levers.config import AgentConfig, load_agent
from models.registry import parse_spec
from ruler.records import DIMENSIONS, GateResult, JudgeMode
from runlog.evaluate import (
    _check_pinned_ruler,
    _comparable_best,
    _judge,
    _verdict_cache,
    agent_tree_hash,
    evaluate_config,
    materialize_agent,
    resolve_ref,
    workspace_caches,
)
from runlog.files import atomic_write_text
from runlog.gitstore import (
    MAIN,
    _commit_lock,
    _commit_object,
    current_best,
    experiment_commits,
)
from runlog.records import ExperimentRecord, OutputRow, ReferenceRecord, experiment_id
from runlog.workspace import Workspace, WorkspaceError

TAG_PREFIX = "ref/"
REFERENCE_PATH = "runlog/reference"
WHERE = {"local": "on-device", "apple": "on-device", "fake": "fake"}
Progress = Callable[[str, int, int], None]  # (stage, done, total)


# --- ids, tags and commits --------------------------------------------------------------------


def reference_id(value: int | str) -> str:
    """Normalize 3, "3", "003", "ref003" or "ref/003" to the record id "ref003"."""
    text = str(value).strip()
    for prefix in (TAG_PREFIX, "ref"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    if not text.isdigit():
        raise WorkspaceError(f"not a reference id: {value!r} (use refNNN or NNN)")
    return f"ref{int(text):03d}"


def reference_tag(ref_id: str) -> str | None:
    """`ref/NNN` for `refNNN`; None for a record not made here (no numbered id)."""
    try:
        return TAG_PREFIX + reference_id(ref_id)[3:]
    except WorkspaceError:
        return None


def reference_commits(ws: Workspace) -> dict[str, str]:
    """Reference id -> commit sha, from the `ref/NNN` tags."""
    with ws.repo() as repo:
        out = repo.git.for_each_ref(
            f"refs/tags/{TAG_PREFIX}", format="%(refname:strip=3) %(objectname) %(*objectname)"
        )
    commits = {}
    for line in out.splitlines():
        name, sha, *peeled = line.split()
        if name.isdigit():
            commits[reference_id(name)] = peeled[0] if peeled else sha
    return commits


def next_reference_id(ws: Workspace) -> str:
    """One more than the highest id among the reference files and the `ref/` tags."""
    files = (
        [p.stem for p in ws.reference_dir.glob("ref*.json")] if ws.reference_dir.is_dir() else []
    )
    known = [int(reference_id(i)[3:]) for i in (*files, *reference_commits(ws))]
    return reference_id(max(known, default=0) + 1)


def load_reference(ws: Workspace, ref_id: str) -> ReferenceRecord:
    """A stored reference record by its id (`ref003`, `3`, `ref/003`, or any file's id)."""
    records = {r.id: r for r in ws.references()}
    if ref_id in records:
        return records[ref_id]
    with contextlib.suppress(WorkspaceError):
        ref_id = reference_id(ref_id)
    if ref_id in records:
        return records[ref_id]
    raise WorkspaceError(f"no reference record {ref_id} ({ws.reference_dir / ref_id}.json missing)")


def reference_message(record: ReferenceRecord) -> str:
    """`refNNN: <title>`, the description as body, then trailers (never `Experiment:`)."""
    result = record.result
    trailers = {
        "Reference": record.id,
        "Kind": record.kind,
        "Gate": result.gate if result else "-",
        "Mode": result.mode if result else "-",
        "Quality": f"{result.quality:.4f}" if result else "-",
        "Source": ", ".join(f"exp{s}" for s in sources(record)) or "none",
    }
    body = [f"{record.description.strip()}\n"] if record.description.strip() else []
    lines = [f"{record.id}: {' '.join(record.title.split())}", "", *body]
    return "\n".join(lines + [f"{k}: {v}" for k, v in trailers.items()]) + "\n"


def _reference_tree(repo: Any, parent: str) -> str:
    """The tree of `parent` with the work tree's `runlog/reference/` laid over it."""
    with tempfile.TemporaryDirectory(prefix="autoresearch-index-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        repo.git.read_tree(parent, env=env)
        repo.git.add("-A", "--", REFERENCE_PATH, env=env)
        return repo.git.write_tree(env=env)


def commit_reference(
    ws: Workspace, record: ReferenceRecord, outputs: list[OutputRow] | None = None
) -> str:
    """Write the record (and its outputs) and commit it off main under the tag `ref/NNN`.

    `main`, the user's index and results.tsv are left as they are; a record already tagged is
    not committed twice.
    """
    tag = reference_tag(record.id)
    if tag is None:
        raise WorkspaceError(f"reference id {record.id!r}: use refNNN (see next_reference_id)")
    with _commit_lock(ws):
        if outputs is not None:
            text = "".join(row.model_dump_json() + "\n" for row in outputs)
            atomic_write_text(ws.reference_dir / f"{record.id}.jsonl", text)
        ws.write_reference(record)
        known = reference_commits(ws)
        if record.id in known:
            return known[record.id]
        with ws.repo() as repo:
            main = repo.git.rev_parse(f"refs/heads/{MAIN}")
            sha = _commit_object(
                repo, _reference_tree(repo, main), [main], reference_message(record)
            )
            repo.git.tag(tag, sha)
    return sha


# --- the cloud ceiling ------------------------------------------------------------------------


def where(model_spec: str) -> str:
    """Where a candidate model runs: on-device (local, apple), cloud (anthropic, others), fake."""
    backend = model_spec.partition(":")[0]
    return WHERE.get(backend, "cloud")


def swap_model(config: AgentConfig, model: str) -> tuple[AgentConfig, list[str]]:
    """The agent with only its model swapped; adapter levers disabled if the model changes."""
    if model == config.model:
        return config, []
    from levers.registry import lever_classes

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


def _ruler(ws: Workspace):
    from ruler.loader import load_ruler

    loaded = load_ruler(ws.config.ruler.name)
    _check_pinned_ruler(ws, loaded)
    return loaded


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
    loaded = _ruler(ws)
    loaded.gate_cases(gate)
    commit, source = _agent_source(ws, agent_ref)
    mode = ws.config.judge.mode
    judge = _judge(judge or ws.config.judge.spec, loaded)
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
            baseline=_comparable_best(ws, gate, mode, judge.judge_id),
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


# --- re-judging stored outputs ----------------------------------------------------------------


def judge_spec_for(judge_id: str, ws: Workspace) -> str:
    """The judge spec behind a logged judge id (`llm:<model spec>`, `embedding:...`)."""
    if judge_id.startswith("llm:"):
        return judge_id[len("llm:") :]
    if judge_id.startswith("embedding"):
        return "embedding"
    return ws.config.judge.spec


def sources(record: ReferenceRecord) -> list[str]:
    """The experiment ids a reference record came from (a re-judge lists several)."""
    ids = []
    for text in (record.source_experiment or "").replace(",", " ").split():
        with contextlib.suppress(ValueError):
            ids.append(experiment_id(text))
    return ids


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
    from ruler.gates import evaluate as evaluate_gate

    loaded, cache = _ruler(ws), _verdict_cache(ws)
    stored = {exp: _stored(ws, exp) for exp in ids}
    modes: list[JudgeMode] = ["standard"] if mode == "standard" else ["standard", mode]
    gates: list[GateResult] = []
    model_ids: dict[str, str] = {}
    judge_ids: list[str] = []
    for exp, (record, logged, candidates) in stored.items():
        judge_obj = _judge(judge or judge_spec_for(logged.judge_id, ws), loaded)
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


# --- tables (plain data) ----------------------------------------------------------------------


def _result_row(label: str, candidate: str, place: str, result: GateResult) -> dict[str, Any]:
    return {
        "label": label,
        "candidate": candidate,
        "where": place,
        "gate": result.gate,
        "mode": result.mode,
        "judge": result.judge_id,
        "quality": result.quality,
        "low": result.interval.low,
        "high": result.interval.high,
        "coverage": result.dimension_means.get("coverage"),
        "dimensions": {d: result.dimension_means.get(d) for d in DIMENSIONS},
        "wins": result.wins,
        "ties": result.ties,
        "losses": result.losses,
        "cases": result.wins + result.ties + result.losses,
    }


def _result_on(record: ExperimentRecord, gate: str) -> GateResult | None:
    """The experiment's result on `gate` if it ran there, else its deciding result."""
    return next((g for g in reversed(record.gates) if g.gate == gate), record.result)


def ceilings(ws: Workspace) -> list[ReferenceRecord]:
    return [r for r in ws.references() if r.kind == "ceiling" and r.result is not None]


def ceiling_table(ws: Workspace) -> list[dict[str, Any]]:
    """The seed report's §4 rows: the best on-device experiment, then every stored ceiling.

    Each row: id, label, candidate, where (on-device / cloud / fake), gate, mode, judge, quality,
    low, high, coverage, dimensions, wins, ties, losses, cases.
    """
    refs = ceilings(ws)
    gate = refs[-1].result.gate if refs else "full-30"
    rows = []
    best = current_best(ws)
    result = _result_on(best.record, gate) if best else None
    if best and result:
        candidate = best.record.model_ids.get("candidate") or best.record.agent.get("model", "?")
        label = f"{candidate} ({best.record.name}, best)"
        rows.append({"id": best.record.name, **_result_row(label, candidate, "on-device", result)})
    for ref in refs:
        candidate = ref.model_ids.get("candidate", "?")
        rows.append(
            {"id": ref.id, **_result_row(candidate, candidate, where(candidate), ref.result)}
        )
    return rows


def scored_as_candidate(ws: Workspace) -> list[dict[str, Any]]:
    """The §5 per-dimension rows: label, candidate, where, gate and the five dimension means."""
    keys = ("id", "label", "candidate", "where", "gate", "mode", "dimensions")
    return [{k: row[k] for k in keys} for row in ceiling_table(ws)]


def rejudge_labels(mode: str) -> tuple[str, str]:
    """Column names of the two qualities a re-judge row compares."""
    return ("logged", "re-judged") if mode == "standard" else ("5-dim", mode)


def rejudge_mode(record: ReferenceRecord) -> str:
    return record.result.mode if record.result else "standard"


def rejudge_table(ws: Workspace, record: ReferenceRecord) -> list[dict[str, Any]]:
    """The §5 rows of one re-judge: per experiment, quality before → after and losses.

    Coverage-blind: "before" is the standard re-judge (the control), "after" the blind one.
    Standard: "before" is the logged result, "after" the re-judge. `reproduced` says whether
    the standard re-judge gave the logged quality exactly.
    """
    ids = sources(record)
    per = 1 if rejudge_mode(record) == "standard" else 2
    rows = []
    for i, exp in enumerate(ids):
        chunk = record.gates[i * per : (i + 1) * per]
        if not chunk:
            break
        experiment = _record_or_none(ws, exp)
        logged = experiment.result if experiment else None
        before = chunk[0] if per == 2 else logged
        after = chunk[-1]
        rows.append(
            {
                "id": exp,
                "name": f"exp{exp}",
                "hypothesis": experiment.hypothesis if experiment else "",
                "candidate": record.model_ids.get(f"exp{exp}", ""),
                "gate": after.gate,
                "mode": after.mode,
                "logged_quality": logged.quality if logged else None,
                "standard_quality": chunk[0].quality,
                "reproduced": bool(logged) and chunk[0].quality == logged.quality,
                "quality_before": before.quality if before else None,
                "quality_after": after.quality,
                "delta": after.quality - before.quality if before else None,
                "losses_before": before.losses if before else None,
                "losses_after": after.losses,
                "cases": after.wins + after.ties + after.losses,
            }
        )
    return rows


def _record_or_none(ws: Workspace, exp: str) -> ExperimentRecord | None:
    try:
        return ws.record(exp)
    except WorkspaceError:
        return None


def reference_tables(ws: Workspace) -> dict[str, Any]:
    """Every table of the reference section: ceiling, scored as candidate, each re-judge."""
    rejudges = [r for r in ws.references() if r.kind == "rejudge" and r.gates]
    return {
        "ceiling": ceiling_table(ws),
        "scored": scored_as_candidate(ws),
        "rejudges": [
            {
                "id": r.id,
                "title": r.title,
                "mode": rejudge_mode(r),
                "labels": rejudge_labels(rejudge_mode(r)),
                "rows": rejudge_table(ws, r),
            }
            for r in rejudges
        ],
    }


def references_view(ws: Workspace) -> list[dict[str, Any]]:
    """One row per reference record: id, kind, title, gate, mode, quality, commit."""
    commits = reference_commits(ws)
    rows = []
    for record in ws.references():
        result = record.result
        rows.append(
            {
                "id": record.id,
                "kind": record.kind,
                "title": record.title,
                "sources": sources(record),
                "gate": result.gate if result else None,
                "mode": result.mode if result else None,
                "quality": result.quality if result else None,
                "commit": commits.get(record.id),
                "created_at": record.created_at.isoformat(),
            }
        )
    return rows


def reference_view(ws: Workspace, ref_id: str) -> dict[str, Any]:
    """Everything a detail pane shows for one reference record, with its table(s)."""
    from levers.diagram import text_diagram
    from levers.trace import TraceNode

    record = load_reference(ws, ref_id)
    view: dict[str, Any] = {
        "id": record.id,
        "kind": record.kind,
        "title": record.title,
        "description": record.description,
        "sources": sources(record),
        "model_ids": record.model_ids,
        "outputs": record.outputs,
        "created_at": record.created_at.isoformat(),
        "commit": reference_commits(ws).get(record.id),
        "tag": reference_tag(record.id),
        "gates": [_result_row(record.id, "", "", g) for g in record.gates],
        "diagram": "",
        "ceiling_table": [],
        "scored_as_candidate": [],
        "rejudge_table": [],
        "rejudge_labels": None,
    }
    if record.trace:
        with contextlib.suppress(ValueError):
            view["diagram"] = text_diagram([TraceNode.model_validate(n) for n in record.trace])
    if record.kind == "ceiling":
        view["ceiling_table"] = ceiling_table(ws)
        view["scored_as_candidate"] = scored_as_candidate(ws)
    elif record.kind == "rejudge":
        view["rejudge_table"] = rejudge_table(ws, record)
        view["rejudge_labels"] = rejudge_labels(rejudge_mode(record))
    return view
