"""Plain data for what `log`, `status`, `show` (and the TUI) render: no printing here."""

from __future__ import annotations

from typing import Any

from runlog.calibration import calibration, observed_delta, observed_seconds
from runlog.gitstore import MAIN, current_best, pending_records
from runlog.records import ExperimentRecord, experiment_id
from runlog.reference.headline import headline
from runlog.reliability import judge_reliability, keep_reliability, latest_recheck
from runlog.rows import ResultRow
from runlog.tags import experiment_commits
from runlog.workspace import Workspace


def _kept_line(ws: Workspace) -> set[str]:
    """Commit shas on main's first-parent line."""
    with ws.repo() as repo:
        return {c.hexsha for c in repo.iter_commits(MAIN, first_parent=True)}


def experiment_row(record: ExperimentRecord, commit: str | None, on_main: bool) -> dict[str, Any]:
    """One experiment as a flat dict (what a table row or JSON line shows)."""
    row: dict[str, Any] = {
        "id": record.id,
        "name": record.name,
        "commit": commit,
        "status": record.status,
        "on_main": on_main,
        "parent": record.parent,
        "lever_class": record.lever_class,
        "hypothesis": record.hypothesis,
        "failure": record.failure,
        **ResultRow.cells(record.result),
        "cost_usd": record.cost_usd,
        "wall_seconds": record.wall_seconds,
        "finished_at": record.finished_at.isoformat(),
    }
    return row


def log_view(ws: Workspace) -> list[dict[str, Any]]:
    """Every experiment in id order, each with its commit and whether it is on the kept line."""
    commits, line = experiment_commits(ws), _kept_line(ws)
    rows = []
    for record in ws.records():
        commit = commits.get(record.id)
        rows.append(experiment_row(record, commit, commit in line if commit else False))
    return rows


def status_view(ws: Workspace) -> dict[str, Any]:
    """The workspace at a glance: settings, counts, the current best, what comes next."""
    records = ws.records()
    best = current_best(ws)
    counts = {s: sum(r.status == s for r in records) for s in ("kept", "discarded", "failed")}
    with ws.repo() as repo:
        dirty = [item.a_path for item in repo.index.diff(None)] + repo.untracked_files
    events = ws.events()
    closeness = headline(ws)
    return {
        "root": str(ws.root),
        "candidate": ws.config.candidate.model,
        "judge": f"{ws.config.judge.spec} ({ws.config.judge.mode})",
        "researcher": ws.config.researcher.spec,
        "ruler": f"{ws.config.ruler.name} {ws.config.ruler.lock_hash[:12]}",
        "budget": ws.config.budget.model_dump(),
        "experiments": len(records),
        "counts": counts,
        "best": experiment_row(best.record, best.commit, True) if best else None,
        "next_id": ws.next_experiment_id(),
        "pending": pending_records(ws),
        "uncommitted": sorted(set(dirty)),
        "last_event": events[-1].model_dump(mode="json") if events else None,
        "cost_usd": round(sum(r.cost_usd for r in records), 4),
        "calibration": calibration(records).model_dump(),
        "keep_reliability": keep_reliability(ws),
        "judge_reliability": judge_reliability(ws),
        "recheck": latest_recheck(ws),
        "headline": closeness.model_dump(),
        "headline_lines": closeness.lines(str(ws.root)),
    }


def agent_diff(ws: Workspace, commit: str) -> str:
    """`git diff` of agent/ between an experiment's commit and its parent (the best then)."""
    with ws.repo() as repo:
        parents = repo.commit(commit).parents
        if not parents:
            return ""
        return repo.git.diff(parents[0].hexsha, commit, "--", "agent")


def experiment_view(ws: Workspace, exp: str) -> dict[str, Any]:
    """Everything `show NNN` prints: the row, method, verdict summary, diff and diagram."""
    from levers.diagram import text_diagram
    from levers.trace import TraceNode

    record = ws.record(experiment_id(exp))
    commit = experiment_commits(ws).get(record.id)
    view = experiment_row(record, commit, bool(commit) and commit in _kept_line(ws))
    trace = [TraceNode.model_validate(n) for n in record.trace]
    view.update(
        method=record.method,
        decision=record.decision,
        predicted_delta=record.predicted_delta,
        observed_delta=observed_delta(record),
        predicted_seconds=record.predicted_seconds,
        observed_seconds=observed_seconds(record),
        notes_seen=record.notes_seen,
        model_ids=record.model_ids,
        ruler_hash=record.ruler_hash,
        adapter_hash=record.adapter_hash,
        gates=[
            {
                **ResultRow.cells(g),
                "comparison": g.comparison.model_dump() if g.comparison else None,
                "stopped": g.stopped,
            }
            for g in record.gates
        ],
        diff=agent_diff(ws, commit) if commit else "",
        diagram=text_diagram(trace) if trace else "",
        lever_files=[f.model_dump() for f in record.lever_files],
    )
    return view
