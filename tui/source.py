"""What the TUI shows, and where it comes from: plain view records and the workspace source.

Widgets render these records and nothing else. `WorkspaceSource` fills them from `runlog`
(records, views, report, bisect) and `orchestrator.control` (live status, events, commands);
tests and snapshots swap in a source with fixed data. The source never draws.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from orchestrator import control
from orchestrator.control import LiveStatus

DIMENSION_LABELS: dict[str, str] = {
    "atomicity": "atom",
    "specificity": "spec",
    "coverage": "cov",
    "naturalness": "nat",
    "non_redundancy": "nonred",
}

REFERENCE_PREFIX = "ref:"
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ExperimentRow:
    """One line of the experiments table (a results.tsv row plus its Δ vs parent)."""

    id: str
    status: str
    lever_class: str = ""
    gate: str = ""
    quality: float | None = None
    delta: float | None = None
    dimensions: dict[str, float | None] = field(default_factory=dict)
    wins: int = 0
    ties: int = 0
    losses: int = 0
    description: str = ""
    reference: bool = False


@dataclass(frozen=True)
class Summary:
    """The header's numbers: the workspace, who researches, the best so far, counts, cost."""

    workspace: str
    researcher: str = ""
    best_id: str = ""
    best_quality: float | None = None
    best_interval: tuple[float, float] | None = None
    kept: int = 0
    discarded: int = 0
    failed: int = 0
    cost_usd: float = 0.0


@dataclass(frozen=True)
class CaseOutcome:
    case_id: str
    outcome: str
    delta: float | None = None


@dataclass(frozen=True)
class DetailTable:
    """One table of a reference record, its cells already text: the detail pane lays it out."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...] = ()
    numeric: tuple[int, ...] = ()
    """Indexes of the columns that hold numbers (aligned right). A header may span two lines."""
    highlight: tuple[int, ...] = ()
    """Indexes of the rows that are the selected record itself."""


@dataclass(frozen=True)
class ExperimentDetail:
    """Everything the detail pane shows for one experiment (or a reference record)."""

    id: str
    status: str = ""
    hypothesis: str = ""
    method: str = ""
    lever_class: str = ""
    gate: str = ""
    parent: str = ""
    quality: float | None = None
    interval: tuple[float, float] | None = None
    delta: float | None = None
    dimensions: dict[str, float | None] = field(default_factory=dict)
    wins: int = 0
    ties: int = 0
    losses: int = 0
    cases: tuple[CaseOutcome, ...] = ()
    diff: str = ""
    diagram: str = ""
    failure: str = ""
    cost_usd: float = 0.0
    seconds: float = 0.0
    reference: bool = False
    commit: str = ""
    tag: str = ""
    tables: tuple[DetailTable, ...] = ()
    """Reference records: the tables of its kind (ceiling, re-judge); empty for experiments."""


@dataclass(frozen=True)
class BisectOutcome:
    first_bad: str
    hypothesis: str = ""
    message: str = ""


class Source(Protocol):
    """Everything the app reads from and writes to a workspace."""

    workspace: Path

    def version(self) -> Any:
        """A cheap token that changes when the run log changes (mtimes)."""

    def summary(self) -> Summary: ...
    def rows(self) -> list[ExperimentRow]: ...
    def detail(self, experiment_id: str) -> ExperimentDetail | None: ...
    def status(self) -> LiveStatus: ...
    def events(self, offset: int) -> tuple[list[dict[str, Any]], int]: ...
    def send(self, kind: control.CommandKind, text: str = "", request: str | None = None): ...
    def write_report(self) -> Path: ...
    def bisect(
        self, good: str, bad: str, check: str, gate: str | None, progress: Progress | None
    ) -> BisectOutcome: ...


# --- the workspace source ---------------------------------------------------------------------


def _pair(low: float | None, high: float | None) -> tuple[float, float] | None:
    return None if low is None or high is None else (low, high)


def row_from_view(view: dict[str, Any]) -> ExperimentRow:
    """An experiments-table row from a `runlog.views.experiment_row` dict."""
    return ExperimentRow(
        id=view["id"],
        status=view["status"],
        lever_class=view.get("lever_class") or "",
        gate=view.get("gate") or "",
        quality=view.get("quality"),
        delta=view.get("delta"),
        dimensions=dict(view.get("dimensions") or {}),
        wins=view.get("wins") or 0,
        ties=view.get("ties") or 0,
        losses=view.get("losses") or 0,
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


# --- reference records: the detail and its tables ----------------------------------------------


def _fmt(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _signed(value: float | None) -> str:
    return "—" if value is None else f"{value:+.3f}"


def _count(value: int | None) -> str:
    return "—" if value is None else str(value)


def _gate_label(row: dict[str, Any]) -> str:
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
    gates = {_gate_label(r) for r in rows}
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
                _candidate(r) if gate else f"{_candidate(r)} {_gate_label(r)}",
                r["where"],
                _fmt(r["quality"]),
                f"{_fmt(r['low'])}–{_fmt(r['high'])}",
                _fmt(r["coverage"], 2),
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
            (_candidate(r), *(_fmt(r["dimensions"].get(d), 2) for d in DIMENSION_LABELS))
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
            _fmt(r["quality_before"]),
            _fmt(r["quality_after"]),
            _signed(r["delta"]),
            f"{_count(r['losses_before'])} → {r['losses_after']}/{r['cases']}",
            "yes" if r["reproduced"] else f"no {_fmt(r['logged_quality'])}",
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
                _gate_label(g),
                g["judge"],
                _fmt(g["quality"]),
                f"[{_fmt(g['low'])}, {_fmt(g['high'])}]",
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
        gate=_gate_label(result) if result else "",
        parent=", ".join(f"exp{s}" for s in view["sources"]),
        quality=result.get("quality"),
        interval=_pair(result.get("low"), result.get("high")),
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


class WorkspaceSource:
    """A `Source` over a workspace folder: `runlog.views` for the log, `orchestrator.control`
    for the live state and the commands."""

    def __init__(self, path: Path) -> None:
        from runlog.workspace import Workspace

        self.ws = Workspace.open(path, repair=False)  # the loop repairs; the TUI only reads
        self.workspace = self.ws.root

    def version(self) -> Any:
        stamps = []
        for path in (self.ws.results_path, self.ws.experiments_dir, self.ws.reference_dir):
            try:
                stat = path.stat()
                stamps.append((stat.st_mtime_ns, stat.st_size))
            except OSError:
                stamps.append(None)
        return tuple(stamps)

    def summary(self) -> Summary:
        from runlog.views import status_view

        view = status_view(self.ws)
        best = view.get("best") or {}
        counts = view.get("counts") or {}
        return Summary(
            workspace=self.ws.root.name,
            researcher=view.get("researcher", ""),
            best_id=best.get("id", ""),
            best_quality=best.get("quality"),
            best_interval=_pair(best.get("low"), best.get("high")),
            kept=counts.get("kept", 0),
            discarded=counts.get("discarded", 0),
            failed=counts.get("failed", 0),
            cost_usd=view.get("cost_usd", 0.0),
        )

    def rows(self) -> list[ExperimentRow]:
        from runlog.views import log_view

        return [row_from_view(v) for v in log_view(self.ws)] + self._reference_rows()

    def _reference_rows(self) -> list[ExperimentRow]:
        """One row per reference record (`runlog.reference.references_view`), below the log."""
        from runlog.reference import references_view

        return [reference_row(view) for view in references_view(self.ws)]

    def detail(self, experiment_id: str) -> ExperimentDetail | None:
        from runlog.views import experiment_view
        from runlog.workspace import WorkspaceError

        if experiment_id.startswith(REFERENCE_PREFIX):
            return self._reference_detail(experiment_id)
        try:
            view = experiment_view(self.ws, experiment_id)
        except (WorkspaceError, ValueError):
            return None
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
            interval=_pair(view.get("low"), view.get("high")),
            delta=row.delta,
            dimensions=row.dimensions,
            wins=row.wins,
            ties=row.ties,
            losses=row.losses,
            cases=self._cases(view),
            diff=view.get("diff", ""),
            diagram=view.get("diagram", ""),
            failure=view.get("failure", ""),
            cost_usd=view.get("cost_usd", 0.0),
            seconds=view.get("wall_seconds", 0.0),
        )

    def _reference_detail(self, row_id: str) -> ExperimentDetail | None:
        """A reference record with the tables of its kind (`runlog.reference.reference_view`)."""
        from runlog.reference import reference_view
        from runlog.workspace import WorkspaceError

        try:
            view = reference_view(self.ws, row_id.removeprefix(REFERENCE_PREFIX))
        except (WorkspaceError, ValueError):
            return None
        return reference_detail(view)

    def _cases(self, view: dict[str, Any]) -> tuple[CaseOutcome, ...]:
        """Per-case W/T/L from the deciding gate's verdicts, with the paired per-case delta.

        ADAPTER: `experiment_view` carries no per-case outcomes yet, so they are read from the
        record's last gate (the same gate the view's numbers come from).
        """
        result = self.ws.record(view["id"]).result
        if result is None:
            return ()
        per_case = result.comparison.per_case_delta if result.comparison else {}
        return tuple(
            CaseOutcome(v.case_id, v.outcome, per_case.get(v.case_id)) for v in result.verdicts
        )

    def status(self) -> LiveStatus:
        return control.read_status(self.workspace)

    def events(self, offset: int) -> tuple[list[dict[str, Any]], int]:
        """Live events after `offset`; from the start again if the stream was truncated."""
        path = control.control_dir(self.workspace) / "live.jsonl"
        if offset and (not path.exists() or path.stat().st_size < offset):
            offset = 0
        return control.read_live(self.workspace, offset)

    def send(self, kind: control.CommandKind, text: str = "", request: str | None = None):
        return control.send(self.workspace, kind, text=text, request=request)

    def write_report(self) -> Path:
        from runlog import report

        write = getattr(report, "write_report", None) or report.write_dashboard
        return write(self.ws)

    def bisect(
        self, good: str, bad: str, check: str, gate: str | None, progress: Progress | None
    ) -> BisectOutcome:
        import inspect

        from runlog.bisect import bisect

        kwargs: dict[str, Any] = {"good": good, "bad": bad, "check": check, "gate": gate}
        if progress is not None and "progress" in inspect.signature(bisect).parameters:
            kwargs["progress"] = progress
        result = bisect(self.ws, **kwargs)
        if result.experiment is None:
            tail = "\n".join(result.log.splitlines()[-3:])
            raise BisectUnresolved(f"bisect named no experiment: {tail}")
        return BisectOutcome(
            first_bad=result.experiment, hypothesis=result.hypothesis, message=result.subject
        )


class BisectUnresolved(Exception):
    """`git bisect run` ended without naming an experiment commit."""
