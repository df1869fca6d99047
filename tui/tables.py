"""A reference record's tables (cloud ceiling, scored as candidate, re-judge, gate results),
laid out as `DetailTable`s of text cells from a `runlog.reference.reference_view` dict."""

from __future__ import annotations

from typing import Any

from tui.numbers import count, number
from tui.views import DIMENSION_LABELS, DetailTable


def gate_label(row: dict[str, Any]) -> str:
    """A gate, with its judging mode unless standard: "full-30 (coverage-blind)"."""
    mode = row.get("mode") or "standard"
    return row["gate"] + ("" if mode == "standard" else f" ({mode})")


def _candidate(row: dict[str, Any]) -> str:
    """A ceiling-table row's name: its label, with its id when the label does not carry it."""
    return row["label"] if row["id"] in row["label"] else f"{row['label']} [{row['id']}]"


def _rows_of(view: dict[str, Any], rows: list[dict[str, Any]]) -> tuple[int, ...]:
    """The indexes of the rows that are the viewed record itself."""
    return tuple(i for i, row in enumerate(rows) if row["id"] == view["id"])


def _one_gate(rows: list[dict[str, Any]]) -> str | None:
    """The gate (with its mode) every row shares, if they share one: it goes in the title."""
    gates = {gate_label(r) for r in rows}
    return gates.pop() if len(gates) == 1 else None


def ceiling_tables(view: dict[str, Any]) -> tuple[DetailTable, DetailTable]:
    """The cloud-ceiling table and the per-dimension "scored as candidate" table."""
    rows, scored = view["ceiling_table"], view["scored_as_candidate"]
    gate = _one_gate(rows)
    ceiling = DetailTable(
        title=f"Cloud ceiling{f' on {gate}' if gate else ''}: only the model changes",
        columns=("candidate", "where", "quality", "interval", "cov", "vs gold\nW/T/L"),
        rows=tuple(
            (
                _candidate(r) if gate else f"{_candidate(r)} {gate_label(r)}",
                r["where"],
                number(r["quality"]),
                f"{number(r['low'])}–{number(r['high'])}",
                number(r["coverage"], 2),
                f"{r['wins']}/{r['ties']}/{r['losses']}",
            )
            for r in rows
        ),
        numeric=(2, 3, 4, 5),
        highlight=_rows_of(view, rows),
    )
    dimensions = DetailTable(
        title="Rubric means, scored as candidate",
        columns=("scored as candidate", *DIMENSION_LABELS.values()),
        rows=tuple(
            (_candidate(r), *(number(r["dimensions"].get(d), 2) for d in DIMENSION_LABELS))
            for r in scored
        ),
        numeric=tuple(range(1, len(DIMENSION_LABELS) + 1)),
        highlight=_rows_of(view, scored),
    )
    return ceiling, dimensions


def rejudge_table(view: dict[str, Any]) -> DetailTable:
    """Per re-judged experiment: quality before → after, Δ, losses to gold before → after, and
    whether the standard re-judge reproduced the logged quality. One gate goes in the title."""
    before, after = view["rejudge_labels"] or ("logged", "re-judged")
    rows = view["rejudge_table"]
    gates = {r["gate"] for r in rows}
    gate = gates.pop() if len(gates) == 1 else None
    columns = (
        "experiment",
        f"quality\n{before}",
        f"quality\n{after}",
        "Δ",
        "loses to\ngold",
        "standard\n= logged",
    )
    cells = [
        (
            r["name"] if gate else f"{r['name']} {r['gate']}",
            number(r["quality_before"]),
            number(r["quality_after"]),
            number(r["delta"], signed=True),
            f"{count(r['losses_before'])} → {r['losses_after']}/{r['cases']}",
            "yes" if r["reproduced"] else f"no {number(r['logged_quality'])}",
        )
        for r in rows
    ]
    return DetailTable(
        title=f"Re-judged{f' on {gate}' if gate else ''}: quality {before} → {after}",
        columns=columns,
        rows=tuple(cells),
        numeric=(1, 2, 3, 4),
    )


def gates_table(view: dict[str, Any]) -> DetailTable:
    """Every gate result of the record (for kinds without a table of their own)."""
    return DetailTable(
        title="Gate results",
        columns=("gate", "judge", "quality", "interval", "W/T/L"),
        rows=tuple(
            (
                gate_label(g),
                g["judge"],
                number(g["quality"]),
                f"[{number(g['low'])}, {number(g['high'])}]",
                f"{g['wins']}/{g['ties']}/{g['losses']}",
            )
            for g in view["gates"]
        ),
        numeric=(2, 3, 4),
    )


def reference_tables(view: dict[str, Any]) -> tuple[DetailTable, ...]:
    """The tables fitting the record's kind; its gate results when its kind has none."""
    if view["ceiling_table"]:
        return ceiling_tables(view)
    if view["rejudge_table"]:
        return (rejudge_table(view),)
    return (gates_table(view),) if view["gates"] else ()
