"""Test helpers for the TUI: a workspace with experiments committed through the runlog API."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from ruler.records import DIMENSIONS, Comparison, GateResult, Interval, Verdict
from runlog.records import ExperimentRecord
from runlog.workspace import Workspace

OUTCOMES = "WTLLTTWLTL"


def gate_result(quality: float, delta: float | None = None) -> GateResult:
    verdicts = [
        Verdict(
            case_id=f"c{i + 1:02d}",
            judge_id="fake",
            scores=dict.fromkeys(DIMENSIONS, 3),
            outcome=outcome,
        )
        for i, outcome in enumerate(OUTCOMES)
    ]
    comparison = None
    if delta is not None:
        comparison = Comparison(
            baseline_quality=quality - delta,
            delta=delta,
            interval=Interval(low=delta - 0.02, high=delta + 0.02),
            wins=3,
            losses=2,
            ties=5,
            sign_test_p=0.5,
            per_case_delta={v.case_id: delta for v in verdicts},
        )
    return GateResult(
        gate="dev-10",
        judge_id="fake",
        ruler_hash="test-lock",
        verdicts=verdicts,
        dimension_means=dict.fromkeys(DIMENSIONS, 3.0),
        wins=OUTCOMES.count("W"),
        ties=OUTCOMES.count("T"),
        losses=OUTCOMES.count("L"),
        quality=quality,
        interval=Interval(low=quality - 0.03, high=quality + 0.03),
        comparison=comparison,
    )


def commit_experiment(
    root: Path,
    exp: str,
    *,
    status: str = "kept",
    quality: float = 0.3,
    delta: float | None = None,
    temperature: float | None = None,
    hypothesis: str = "",
) -> None:
    """Record and commit one experiment; `temperature` edits agent/agent.toml first (a diff)."""
    ws = Workspace.open(root)
    if temperature is not None:
        text = ws.agent_path.read_text()
        lines = [
            f"temperature = {temperature}" if line.startswith("temperature =") else line
            for line in text.splitlines()
        ]
        ws.agent_path.write_text("\n".join(lines) + "\n")
    record = ExperimentRecord(
        id=exp,
        hypothesis=hypothesis or f"experiment {exp}",
        method="set the decoding temperature",
        lever_class="decoding",
        status=status,
        gates=[gate_result(quality, delta)],
    )
    ws.commit_experiment(record)


async def wait_for(pilot, condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Let the app run until `condition()` holds (fails the test after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.02)
