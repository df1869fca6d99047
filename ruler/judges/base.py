"""The judge interface every judge implements, the output contract, and the verdict for a
candidate that breaks it.

The contract is part of the ruler: for the planner, an answer is a plan with exactly seven
non-empty questions; for any other feature, one JSON value conforming to the feature's `[output]`
schema (`feature_breach`). An answer that breaks it (unparseable, 1, 6 or 9 questions, an empty
question, a schema error) is a failed case, judged before any judge reads it: 1 on every
dimension and a loss, the lowest per-case quality there is, so breaking the contract can never
raise quality. A planner answer's missing title is not a breach: the rubric scores the
questions, and the problem is shown with the case (see the README, "The output contract").
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ruler.contract import breach
from ruler.plan import QUESTION_COUNT, ParsedPlan, parse_plan
from ruler.records import Case, JudgeMode, Verdict, dimensions_for


@runtime_checkable
class Judge(Protocol):
    judge_id: str
    calls: int  # judge work done so far: model calls (LLM) or candidates scored (offline)

    def judge(self, case: Case, candidate_text: str, mode: JudgeMode = "standard") -> Verdict: ...

    def judge_many(
        self, pairs: list[tuple[Case, str]], mode: JudgeMode = "standard"
    ) -> list[Verdict]: ...


CONTRACT_VERSION = 1  # part of every judge's id: bumped when the contract changes


def contract_breach(parsed: ParsedPlan) -> str:
    """How a parsed answer breaks the output contract, or '' when it holds."""
    if "unparseable" in parsed.problems:
        return "could not be parsed into a plan"
    questions = parsed.plan.questions
    if len(questions) != QUESTION_COUNT:
        return f"{len(questions)} questions instead of {QUESTION_COUNT}"
    if any(not q.strip() for q in questions):
        return "an empty question"
    return ""


def parse_candidate(candidate_text: str) -> ParsedPlan | None:
    """The parsed plan, or None when it breaks the contract (judged as a failed case)."""
    parsed = parse_plan(candidate_text)
    return None if contract_breach(parsed) else parsed


def worst_verdict(
    case: Case,
    judge_id: str,
    mode: JudgeMode,
    why: str = "",
    dimensions: tuple[str, ...] | None = None,
) -> Verdict:
    """A candidate that breaks the contract is a failed case: 1 on every dimension and L.
    `dimensions`: the mode's dimensions of the ruler's rubric (default: the planner's)."""
    return Verdict(
        case_id=case.id,
        judge_id=judge_id,
        mode=mode,
        scores={d: 1 for d in (dimensions or dimensions_for(mode))},
        outcome="L",
        rationale=why or "candidate breaks the output contract: failed case",
    )


def feature_breach(candidate_text: str, schema: dict) -> str:
    """How an answer breaks a feature's JSON-Schema contract ('not JSON', or the first schema
    error with its JSON pointer), or '' when it holds."""
    return breach(candidate_text, schema)[1]


def breach_verdict(case: Case, candidate_text: str, judge_id: str, mode: JudgeMode) -> Verdict:
    """The failed-case verdict naming how `candidate_text` breaks the contract."""
    breach = contract_breach(parse_plan(candidate_text))
    return worst_verdict(case, judge_id, mode, f"contract broken ({breach}): failed case")
