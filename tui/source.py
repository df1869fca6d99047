"""What the TUI shows, and where it comes from: plain view records and the workspace source.

Widgets render these records and nothing else. `WorkspaceSource` fills them from `runlog`
(records, views, report, bisect) and `orchestrator.control` (live status, events, commands);
tests and snapshots swap in a source with fixed data. The source never draws.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
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
    tables: tuple[tuple[str, tuple[str, ...], tuple[tuple[str, ...], ...]], ...] = ()
    """Reference records: (title, header, rows) tables; empty for experiments."""


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
        """HOOK (reference analyses, a later issue): one row per `runlog/reference/*.json`."""
        rows = []
        for record in self.ws.references():
            result = record.result
            view = {"id": f"{REFERENCE_PREFIX}{record.id}", "status": "reference"}
            view |= {"lever_class": record.kind, "hypothesis": record.title}
            if result is not None:
                view |= {"gate": result.gate, "quality": result.quality, "wins": result.wins}
                view |= {"ties": result.ties, "losses": result.losses}
                view |= {"dimensions": result.dimension_means}
            rows.append(replace(row_from_view(view), reference=True))
        return rows

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
        """HOOK: a reference record's summary; its own tables come with the reference issue."""
        row = next((r for r in self._reference_rows() if r.id == row_id), None)
        if row is None:
            return None
        return ExperimentDetail(
            id=row.id,
            status=row.status,
            hypothesis=row.description,
            lever_class=row.lever_class,
            gate=row.gate,
            quality=row.quality,
            dimensions=row.dimensions,
            wins=row.wins,
            ties=row.ties,
            losses=row.losses,
            reference=True,
        )

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
