"""The judge interface every judge implements, and the verdict for an unparseable candidate."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ruler.plan import ParsedPlan, parse_plan
from ruler.records import Case, JudgeMode, Verdict, dimensions_for


@runtime_checkable
class Judge(Protocol):
    judge_id: str
    calls: int  # judge work done so far: model calls (LLM) or candidates scored (offline)

    def judge(self, case: Case, candidate_text: str, mode: JudgeMode = "standard") -> Verdict: ...

    def judge_many(
        self, pairs: list[tuple[Case, str]], mode: JudgeMode = "standard"
    ) -> list[Verdict]: ...


def parse_candidate(candidate_text: str) -> ParsedPlan | None:
    """The parsed plan, or None when nothing usable came out (judged as the worst answer)."""
    parsed = parse_plan(candidate_text)
    return parsed if parsed.usable else None


def worst_verdict(case: Case, judge_id: str, mode: JudgeMode, why: str = "") -> Verdict:
    """An unparseable candidate loses outright: 1 on every dimension and L."""
    return Verdict(
        case_id=case.id,
        judge_id=judge_id,
        mode=mode,
        scores={d: 1 for d in dimensions_for(mode)},
        outcome="L",
        rationale=why or "candidate could not be parsed into a plan: worst verdict",
    )
