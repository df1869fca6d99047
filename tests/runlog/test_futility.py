"""A decisive gate stops halfway when a keep has become unlikely: the gate's real pipeline
process runs the first half, the parent judges it, and the second half never runs."""

from __future__ import annotations

from levers.config import BASELINE_AGENT
from ruler.keep_policy import Futility
from ruler.loader import load_ruler
from runlog.evaluate import evaluate_config
from tests.runlog.conftest import ParseJudge

STOCK = BASELINE_AGENT.model_copy(update={"model": "fake:planner"})
FULL = [c.id for c in load_ruler("planner").gate_cases("full-30")]


def progress_log() -> tuple[list[tuple[str, int, int]], object]:
    seen: list[tuple[str, int, int]] = []
    return seen, lambda stage, done, total: seen.append((stage, done, total))


def test_a_hopeless_candidate_stops_halfway_and_says_why():
    judge = ParseJudge()  # a fake:planner plan scores 0.5 on every case
    seen, progress = progress_log()
    stopped = evaluate_config(
        STOCK,
        gate="full-30",
        judge=judge,
        futility=Futility(best=dict.fromkeys(FULL, 0.9), threshold=0.05),
        progress=progress,
    )
    assert [r.case_id for r in stopped.runs] == FULL[:15]  # the second half never ran
    assert sorted(stopped.result.per_case_quality) == sorted(FULL[:15])
    assert stopped.result.stopped.startswith("futile after 15 cases: mean gain -0.")
    assert judge.calls == 15  # judged once, at the look: the end reuses those verdicts
    assert stopped.result.judge_calls == 15
    assert not any(v.cached for v in stopped.result.verdicts)  # judged in this gate
    runs = [d for stage, d, total in seen if stage == "run"]
    assert max(runs) == 15 and all(total == 30 for stage, _, total in seen if stage == "run")


def test_a_promising_candidate_runs_every_case():
    seen, progress = progress_log()
    kept = evaluate_config(
        STOCK,
        gate="full-30",
        judge=ParseJudge(),
        futility=Futility(best=dict.fromkeys(FULL, 0.1), threshold=0.05),
        progress=progress,
    )
    assert len(kept.runs) == 30 and kept.result.stopped == ""
    assert (("run", 30, 30) in seen) and len(kept.result.per_case_quality) == 30
