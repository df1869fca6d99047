"""Run-log results as TUI view records: the one place the TUI reads runlog's result rows.

`runlog.views` and `runlog.reference` hand out flat dicts whose result cells are a
`runlog.rows.ResultRow`; they are read back into that typed row here, and nowhere else.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ruler.records import GateResult
from runlog.records import ExperimentRecord
from runlog.rows import ResultRow
from tui.tables import gate_label, reference_tables
from tui.views import (
    REFERENCE_PREFIX,
    CaseOutcome,
    ExperimentDetail,
    ExperimentRow,
    Summary,
)


def pair(low: float | None, high: float | None) -> tuple[float, float] | None:
    return None if low is None or high is None else (low, high)


def result_row(view: dict[str, Any]) -> ResultRow | None:
    """The typed result cells of a view dict (None for an experiment without a result)."""
    if view.get("quality") is None:
        return None
    return ResultRow.model_validate({name: view[name] for name in ResultRow.model_fields})


def row_from_view(view: dict[str, Any]) -> ExperimentRow:
    """An experiments-table row from a `runlog.views.experiment_row` dict."""
    result = result_row(view)
    return ExperimentRow(
        id=view["id"],
        status=view["status"],
        lever_class=view.get("lever_class") or "",
        gate=result.gate if result else "",
        quality=result.quality if result else None,
        delta=result.delta if result else None,
        dimensions=dict(result.dimensions) if result else {},
        wins=result.wins if result else 0,
        ties=result.ties if result else 0,
        losses=result.losses if result else 0,
        description=view.get("hypothesis") or "",
    )


def reference_row(view: dict[str, Any]) -> ExperimentRow:
    """An experiments-table row from a `runlog.reference.references_view` dict."""
    return ExperimentRow(
        id=f"{REFERENCE_PREFIX}{view['id']}",
        status="reference",
        lever_class=view.get("kind") or "",
        gate=view.get("gate") or "",
        quality=view.get("quality"),
        description=view.get("title") or "",
        reference=True,
    )


def case_outcomes(result: GateResult | None) -> tuple[CaseOutcome, ...]:
    """Per-case W/T/L of a gate result, with the paired per-case delta where it was compared."""
    if result is None:
        return ()
    per_case = result.comparison.per_case_delta if result.comparison else {}
    return tuple(
        CaseOutcome(v.case_id, v.outcome, per_case.get(v.case_id)) for v in result.verdicts
    )


def experiment_detail(view: dict[str, Any], cases: tuple[CaseOutcome, ...]) -> ExperimentDetail:
    """The detail pane's record for a `runlog.views.experiment_view` dict and its cases."""
    row = row_from_view(view)
    return ExperimentDetail(
        id=row.id,
        status=row.status,
        hypothesis=row.description,
        method=view.get("method", ""),
        lever_class=row.lever_class,
        gate=row.gate,
        parent=view.get("parent") or "",
        quality=row.quality,
        interval=pair(view["low"], view["high"]),
        delta=row.delta,
        dimensions=row.dimensions,
        wins=row.wins,
        ties=row.ties,
        losses=row.losses,
        cases=cases,
        diff=view.get("diff", ""),
        diagram=view.get("diagram", ""),
        failure=view.get("failure", ""),
        cost_usd=view.get("cost_usd", 0.0),
        seconds=view.get("wall_seconds", 0.0),
        predicted_delta=view.get("predicted_delta"),
        observed_delta=view.get("observed_delta"),
        predicted_seconds=view.get("predicted_seconds"),
        observed_seconds=view.get("observed_seconds"),
    )


def reference_detail(view: dict[str, Any]) -> ExperimentDetail:
    """The detail pane's record for a `runlog.reference.reference_view` dict; its summary
    numbers are the deciding (last) gate's."""
    result = view["gates"][-1] if view["gates"] else {}
    dimensions = result.get("dimensions") or {}
    return ExperimentDetail(
        id=f"{REFERENCE_PREFIX}{view['id']}",
        status="reference",
        hypothesis=view["title"],
        method=view.get("description") or "",
        lever_class=view["kind"],
        gate=gate_label(result) if result else "",
        parent=", ".join(f"exp{s}" for s in view["sources"]),
        quality=result.get("quality"),
        interval=pair(result.get("low"), result.get("high")),
        dimensions={d: v for d, v in dimensions.items() if v is not None},
        wins=result.get("wins", 0),
        ties=result.get("ties", 0),
        losses=result.get("losses", 0),
        diagram=view.get("diagram") or "",
        reference=True,
        commit=view.get("commit") or "",
        tag=view.get("tag") or "",
        tables=reference_tables(view),
    )


def summary_of(
    workspace: str,
    researcher: str,
    records: Sequence[ExperimentRecord],
    best: ExperimentRecord | None,
) -> Summary:
    """The header from the records and the current best (no git status: the poll reads this)."""
    result = best.result if best else None
    return Summary(
        workspace=workspace,
        researcher=researcher,
        best_id=best.id if best else "",
        best_quality=result.quality if result else None,
        best_interval=(result.interval.low, result.interval.high) if result else None,
        kept=sum(r.status == "kept" for r in records),
        discarded=sum(r.status == "discarded" for r in records),
        failed=sum(r.status == "failed" for r in records),
        cost_usd=round(sum(r.cost_usd for r in records), 4),
    )
