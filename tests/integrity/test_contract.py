"""Breaking the output contract never raises quality: an answer with other than seven questions
is a failed case, scored below every valid plan (issue 23, attack 4)."""

from __future__ import annotations

import pytest

import ruler.judges.base
from ruler.loader import load_ruler
from ruler.plan import Plan, render_plan
from ruler.quality import per_case_quality
from ruler.sanity import GENERIC_QUESTIONS

CASES = ["c01", "c04", "c07", "c12", "c15", "c22"]


def mediocre(task: str) -> Plan:
    """A valid but poor plan: seven generic questions."""
    extra = ["What is your timeline?", f"Why do you want to {task}?"]
    return Plan(title=task.capitalize(), questions=[*GENERIC_QUESTIONS, *extra])


def breaks(gold: Plan) -> dict[str, Plan]:
    """Contract breaks built from the gold itself: its best questions, too few or too many."""
    qs = list(gold.questions)
    return {
        "one question": Plan(title=gold.title, questions=qs[:1]),
        "three questions": Plan(title=gold.title, questions=qs[:3]),
        "six questions": Plan(title=gold.title, questions=qs[:6]),
        "nine questions": Plan(title=gold.title, questions=[*qs, qs[0] + " Exactly?", qs[1]]),
        "an empty question": Plan(title=gold.title, questions=[*qs[:6], " "]),
    }


def scores(judge, case_ids: list[str]) -> dict[str, list[tuple[float, float]]]:
    """For every kind of break: (its per-case quality, the mediocre plan's) per case."""
    ruler = load_ruler()
    found: dict[str, list[tuple[float, float]]] = {}
    for cid in case_ids:
        case = ruler.cases[cid]
        base = per_case_quality(judge.judge(case, render_plan(mediocre(case.task))))
        for name, plan in breaks(case.gold).items():
            broken = judge.judge(case, render_plan(plan))
            found.setdefault(name, []).append((per_case_quality(broken), base))
    return found


def test_no_contract_break_scores_above_a_mediocre_valid_plan(offline_judge):
    for name, pairs in scores(offline_judge, CASES).items():
        assert all(broken < valid for broken, valid in pairs), name
        assert all(broken == 0.0 for broken, _ in pairs), name  # the lowest there is


def test_the_verdict_names_the_break(offline_judge):
    case = load_ruler().cases["c01"]
    verdict = offline_judge.judge(case, render_plan(breaks(case.gold)["one question"]))
    assert verdict.outcome == "L" and set(verdict.scores.values()) == {1}
    assert "contract broken (1 questions instead of 7)" in verdict.rationale


def test_without_the_contract_a_cut_plan_beats_valid_ones(offline_judge, monkeypatch):
    monkeypatch.setattr(
        ruler.judges.base,
        "contract_breach",
        lambda parsed: "unparseable" if "unparseable" in parsed.problems else "",
    )
    pairs = scores(offline_judge, CASES)["one question"]
    wins = sum(broken > valid for broken, valid in pairs)
    assert wins >= len(pairs) - 1  # the attack works with the protection off


@pytest.mark.parametrize("count", [0, 7])
def test_the_contract_holds_for_seven_and_fails_for_none(count):
    from ruler.plan import parse_plan

    plan = Plan(title="t", questions=[f"Question {i}?" for i in range(count)])
    assert bool(ruler.judges.base.contract_breach(parse_plan(render_plan(plan)))) == (count != 7)
