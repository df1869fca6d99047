"""Apps with fixed data for snapshot tests: no workspace, no clock, no loop.

`FixedSource` implements `tui.source.Source` from constants, so a frame depends on nothing but
this file; `make_app(pending=True)` adds a pending training request (the approval modal opens),
`trainable=False` one this machine cannot train.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from orchestrator import control
from orchestrator.control import ControlCommand, LiveStatus
from tui.app import AutoresearchApp
from tui.source import BisectProgress
from tui.views import BisectOutcome, CaseOutcome, ExperimentDetail, ExperimentRow, Summary

DIMS = ("atomicity", "specificity", "coverage", "naturalness", "non_redundancy")
# id status lever gate quality dimension-means W/T/L description ("-": none)
TABLE = """\
001 kept      baseline      full-30 0.281 3.1,3.0,2.4,3.3,3.2 1/5/24 baseline
002 discarded prompt        dev-10  0.262 3.0,2.9,2.3,3.1,3.0 0/2/8  few-shot
003 kept      prompt        full-30 0.318 3.5,3.2,2.6,3.6,3.4 2/6/22 persona
004 failed    multi_call    -       -     -                   0/0/0  two-pass
005 discarded rag           dev-10  0.301 3.4,3.3,2.5,3.4,3.3 1/2/7  rag-k4
006 kept      rag           full-30 0.352 3.7,3.5,2.7,3.8,3.6 3/6/21 rag-k8
007 discarded decoding      dev-10  0.344 3.6,3.5,2.7,3.7,3.5 1/3/6  t=0.3
008 kept      self_critique full-30 0.371 3.8,3.6,2.8,3.9,3.7 3/8/19 critique
"""
RUNS = [line.split() for line in TABLE.splitlines()]
PARENTS = {"002": "001", "003": "001", "004": "003", "005": "003", "006": "003", "007": "006"}
PARENTS["008"] = "006"
QUALITY = {r[0]: None if r[4] == "-" else float(r[4]) for r in RUNS}

DIFF = """\
--- a/agent/agent.toml
+++ b/agent/agent.toml
@@ -3,6 +3,10 @@ model = "local:smollm2-135m"
 [decoding]
 temperature = 0.0
 max_tokens = 400
+
+[[levers]]
+name = "self_critique"
+params = { rounds = 1 }
"""
DIAGRAM = """\
prepare    rag.retrieve            python  0.1s
generate   planner                 local:smollm2-135m  412→188 tok  4.2s
refine     self_critique.review    local:smollm2-135m  530→201 tok  4.9s"""

REQUEST = {
    "id": "req-001",
    "kind": "sft",
    "rationale": "Five experiments without a kept one; prompt-level levers are exhausted.",
    "data_size": 160,
    "estimated_seconds": 540,
    "experiments": ["exp005", "exp006", "exp007", "exp008"],
    "model": "local:smollm2-135m",
    "steps": 60,
    "trainable_here": True,
    "note": "",
}
UNTRAINABLE = {
    **REQUEST,
    "model": "anthropic:claude-sonnet-4-6",
    "estimated_seconds": None,
    "trainable_here": False,
    "note": "anthropic:claude-sonnet-4-6 is a cloud model: only local models train here",
}
EVENTS: list[dict[str, Any]] = [
    {"kind": "experiment", "id": "008", "status": "kept", "quality": 0.371},
    {"kind": "note", "text": "focus rag"},
    {"kind": "node", "node": "propose", "experiment": "009"},
    {"kind": "node", "node": "run_gate", "experiment": "009"},
    {"kind": "gate_progress", "experiment": "009", "gate": "dev-10", "done": 7, "total": 10},
]


def _delta(run_id: str) -> float | None:
    parent = PARENTS.get(run_id)
    if parent is None or QUALITY[run_id] is None or QUALITY[parent] is None:
        return None
    return QUALITY[run_id] - QUALITY[parent]


def fixed_rows() -> list[ExperimentRow]:
    rows = []
    for run_id, status, lever, gate, _, dims, wtl, text in RUNS:
        wins, ties, losses = (int(n) for n in wtl.split("/"))
        means = [] if dims == "-" else [float(d) for d in dims.split(",")]
        row = ExperimentRow(
            id=run_id,
            status=status,
            lever_class=lever,
            gate="" if gate == "-" else gate,
            quality=QUALITY[run_id],
            delta=_delta(run_id),
            dimensions=dict(zip(DIMS, means, strict=False)),
            wins=wins,
            ties=ties,
            losses=losses,
            description=text,
        )
        rows.append(row)
    return rows


class FixedSource:
    """A `Source` over constants; `sent` collects the commands the app sends."""

    def __init__(self, pending: bool = False, trainable: bool = True) -> None:
        self.workspace = Path("demo-workspace")
        self.pending = pending
        self.request = REQUEST if trainable else UNTRAINABLE
        self.sent: list[ControlCommand] = []

    def version(self) -> Any:
        return 1

    def summary(self) -> Summary:
        return Summary(
            workspace="demo-workspace",
            researcher="heuristic",
            best_id="008",
            best_quality=0.371,
            best_interval=(0.342, 0.401),
            kept=4,
            discarded=3,
            failed=1,
            cost_usd=0.0,
        )

    def rows(self) -> list[ExperimentRow]:
        return fixed_rows()

    def detail(self, experiment_id: str) -> ExperimentDetail | None:
        row = next((r for r in fixed_rows() if r.id == experiment_id), None)
        if row is None:
            return None
        outcomes = "WTLLTTWLTL"
        return ExperimentDetail(
            id=row.id,
            status=row.status,
            hypothesis=f"{row.description} improves the plans",
            method=f"enable the {row.lever_class} lever from the current best",
            lever_class=row.lever_class,
            gate=row.gate,
            parent=PARENTS.get(row.id, ""),
            quality=row.quality,
            interval=(row.quality - 0.03, row.quality + 0.03) if row.quality else None,
            delta=row.delta,
            dimensions=row.dimensions,
            wins=row.wins,
            ties=row.ties,
            losses=row.losses,
            cases=tuple(CaseOutcome(f"c{i + 1:02d}", o) for i, o in enumerate(outcomes)),
            diff=DIFF,
            diagram=DIAGRAM,
            failure="lever failed validation: ImportError" if row.status == "failed" else "",
        )

    def status(self) -> LiveStatus:
        return LiveStatus(
            state="waiting_for_approval" if self.pending else "running",
            researcher="heuristic",
            node="request_training" if self.pending else "run_gate",
            experiment="" if self.pending else "009",
            gate="" if self.pending else "dev-10",
            progress=None if self.pending else (7, 10),
            pending_request=self.request if self.pending else None,
            heartbeat=0.0,
        )

    def events(self, offset: int) -> tuple[list[dict[str, Any]], int]:
        return EVENTS[offset:], len(EVENTS)

    def send(
        self,
        kind: control.CommandKind,
        text: str = "",
        request: str | None = None,
        grant: control.TrainingGrant | None = None,
    ) -> ControlCommand:
        command = ControlCommand(
            id=f"c{len(self.sent)}", time=0.0, kind=kind, text=text, request=request, grant=grant
        )
        self.sent.append(command)
        return command

    def cases(self, experiment_id: str) -> list[str]:
        return [f"c{i:02d}  case {i} of exp {experiment_id}" for i in range(1, 4)]

    def write_report(self) -> Path:
        return Path("demo-workspace/runlog/dashboard.html")

    def bisect(
        self,
        good: str,
        bad: str,
        check: str,
        gate: str | None,
        progress: BisectProgress | None,
    ) -> BisectOutcome:
        for step in range(1, 4):
            if progress:
                progress(step, 3, f"{step:040x}")
        return BisectOutcome(first_bad="006", hypothesis="rag k=8 improves the plans")


def make_app(pending: bool = False, trainable: bool = True) -> AutoresearchApp:
    return AutoresearchApp(FixedSource(pending=pending, trainable=trainable), poll_interval=None)


app = make_app()

if __name__ == "__main__":
    app.run()
