"""The reference tables as plain data for the CLI, the dashboard and the TUI (no printing here):
the cloud ceiling (§4), the dimensions scored as candidate (§5), each re-judge, and the views."""

from __future__ import annotations

import contextlib
from typing import Any

from levers.diagram import text_diagram
from levers.trace import TraceNode
from ruler.records import GateResult
from runlog.folder import WorkspaceFolder
from runlog.gitstore import current_best
from runlog.records import ExperimentRecord, ReferenceRecord
from runlog.reference.store import (
    load_reference,
    reference_commits,
    reference_tag,
    sources,
)
from runlog.rows import ResultRow
from runlog.settings import WorkspaceError

WHERE = {"local": "on-device", "apple": "on-device", "fake": "fake"}


def where(model_spec: str) -> str:
    """Where a candidate model runs: on-device (local, apple), cloud (anthropic, others), fake."""
    backend = model_spec.partition(":")[0]
    return WHERE.get(backend, "cloud")


def result_row(label: str, candidate: str, place: str, result: GateResult) -> dict[str, Any]:
    """A reference table row: who was scored and where, then the result's cells."""
    cells = ResultRow.cells(result)
    return {
        "label": label,
        "candidate": candidate,
        "where": place,
        **cells,
        "coverage": cells["dimensions"].get("coverage"),
    }


def _result_on(record: ExperimentRecord, gate: str) -> GateResult | None:
    """The experiment's result on `gate` if it ran there, else its deciding result."""
    return next((g for g in reversed(record.gates) if g.gate == gate), record.result)


def ceilings(ws: WorkspaceFolder) -> list[ReferenceRecord]:
    return [r for r in ws.references() if r.kind == "ceiling" and r.result is not None]


def ceiling_table(ws: WorkspaceFolder) -> list[dict[str, Any]]:
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
        rows.append({"id": best.record.name, **result_row(label, candidate, "on-device", result)})
    for ref in refs:
        candidate = ref.model_ids.get("candidate", "?")
        rows.append(
            {"id": ref.id, **result_row(candidate, candidate, where(candidate), ref.result)}
        )
    return rows


def scored_as_candidate(ws: WorkspaceFolder) -> list[dict[str, Any]]:
    """The §5 per-dimension rows: label, candidate, where, gate and the five dimension means."""
    keys = ("id", "label", "candidate", "where", "gate", "mode", "dimensions")
    return [{k: row[k] for k in keys} for row in ceiling_table(ws)]


def rejudge_labels(mode: str) -> tuple[str, str]:
    """Column names of the two qualities a re-judge row compares."""
    return ("logged", "re-judged") if mode == "standard" else ("5-dim", mode)


def rejudge_mode(record: ReferenceRecord) -> str:
    return record.result.mode if record.result else "standard"


def rejudge_table(ws: WorkspaceFolder, record: ReferenceRecord) -> list[dict[str, Any]]:
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


def _record_or_none(ws: WorkspaceFolder, exp: str) -> ExperimentRecord | None:
    try:
        return ws.record(exp)
    except WorkspaceError:
        return None


def reference_tables(ws: WorkspaceFolder) -> dict[str, Any]:
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


def references_view(ws: WorkspaceFolder) -> list[dict[str, Any]]:
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


def reference_view(ws: WorkspaceFolder, ref_id: str) -> dict[str, Any]:
    """Everything a detail pane shows for one reference record, with its table(s)."""
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
        "gates": [result_row(record.id, "", "", g) for g in record.gates],
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
