"""Run an agent on a ruler gate and judge its candidates: the core of `autoresearch eval`.

A case whose pipeline failed is judged on empty text, which the judge scores as the worst
verdict, so a broken lever costs quality instead of crashing the evaluation.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from levers.config import AgentConfig
from levers.runner import CandidateRun, run_agent
from ruler.records import GateResult, JudgeMode

PhaseProgress = Callable[[str, int, int], None]  # (phase "generate" | "judge", done, total)


def evaluate_agent(
    config: AgentConfig,
    gate: str = "dev-10",
    judge_spec: str = "embedding",
    mode: JudgeMode = "standard",
    progress: PhaseProgress | None = None,
    *,
    workspace: Path | None = None,
    ruler: Any = None,
    baseline: GateResult | None = None,
    cache: Any = None,
) -> tuple[GateResult, list[CandidateRun]]:
    """Generate candidates for every case of the gate, then judge them with the ruler."""
    from ruler.gates import evaluate
    from ruler.judges import get_judge
    from ruler.loader import load_ruler

    ruler = ruler if ruler is not None else load_ruler()
    ruler.verify()
    cases = ruler.gate_cases(gate)
    judge = get_judge(judge_spec, ruler=ruler)

    def phase(name: str) -> Callable[[int, int], None] | None:
        return None if progress is None else (lambda done, total: progress(name, done, total))

    runs = run_agent(config, cases, workspace=workspace, progress=phase("generate"))
    candidates = {run.case_id: run.text for run in runs}
    result = evaluate(
        candidates,
        gate,
        judge,
        mode,
        ruler=ruler,
        baseline=baseline,
        progress=phase("judge"),
        cache=cache,
    )
    return result, runs
