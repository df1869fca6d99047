"""Fixtures for runlog tests: a fresh workspace on the fake planner and fabricated results."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ruler.records import DIMENSIONS, GateResult, Interval
from runlog.records import ExperimentRecord
from runlog.workspace import Workspace


def gate_result(quality: float, coverage: float = 3.0, gate: str = "dev-10") -> GateResult:
    """A gate result with the given quality (no verdicts; what a record carries)."""
    means = {d: 3.5 for d in DIMENSIONS} | {"coverage": coverage}
    return GateResult(
        gate=gate,
        judge_id="embedding",
        ruler_hash="test",
        verdicts=[],
        dimension_means=means,
        wins=2,
        ties=5,
        losses=3,
        quality=quality,
        interval=Interval(low=quality - 0.05, high=quality + 0.05),
    )


def set_agent(
    ws: Workspace,
    description: str,
    model: str = "fake:planner",
    extra: str = "",
    max_tokens: int = 300,
) -> None:
    """Write an agent.toml into the work tree (what the researcher's write_lever does).

    `max_tokens=1` plants a break: one word of output is never a plan (the worst verdict).
    """
    ws.agent_path.write_text(
        f'model = "{model}"\ndescription = "{description}"\n\n'
        f"[decoding]\nmax_tokens = {max_tokens}\n\n"
        f'[[levers]]\nname = "prompt"\n{extra}'
    )


def make_record(
    exp: str,
    hypothesis: str,
    status: str,
    quality: float | None = 0.4,
    lever_class: str = "prompt",
    **kw,
) -> ExperimentRecord:
    gates = [gate_result(quality)] if quality is not None else []
    failure = "lever raised ValueError" if status == "failed" else ""
    return ExperimentRecord(
        id=exp,
        hypothesis=hypothesis,
        method=f"method of {hypothesis}",
        lever_class=lever_class,
        gates=gates,
        status=status,
        failure=failure,
        **kw,
    )


def git(ws: Workspace, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ws.root, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture(scope="session")
def ruler_name(tmp_path_factory) -> str:
    """The shipped planner ruler; a frozen copy of it while the shipped one has no lock yet."""
    from ruler.loader import ruler_dir
    from ruler.lock import LOCK_NAME, write_lock

    shipped = ruler_dir("planner")
    if (shipped / LOCK_NAME).is_file():
        return "planner"
    copy = tmp_path_factory.mktemp("ruler") / "planner"
    shutil.copytree(shipped, copy)
    write_lock(copy)
    return str(copy)


@pytest.fixture
def ws(tmp_path: Path, ruler_name: str) -> Workspace:
    return Workspace.init(tmp_path / "ws", model="fake:planner", ruler=ruler_name)


class ParseJudge:
    """A fast deterministic judge for tests: a usable plan ties with all 4s, anything else loses."""

    judge_id = "test:parse"

    def __init__(self) -> None:
        self.calls = 0

    def judge(self, case, candidate_text: str, mode: str = "standard"):
        from ruler.plan import parse_plan
        from ruler.records import Verdict, dimensions_for

        self.calls += 1
        usable = parse_plan(candidate_text).usable
        return Verdict(
            case_id=case.id,
            judge_id=self.judge_id,
            mode=mode,
            scores={d: 4 if usable else 1 for d in dimensions_for(mode)},
            outcome="T" if usable else "L",
        )

    def judge_many(self, pairs, mode: str = "standard"):
        return [self.judge(case, text, mode) for case, text in pairs]
