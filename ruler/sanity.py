"""The judge sanity suite: degraded variants of every gold plan must score lower than the gold.

For each ruler case five perturbations of the gold are judged alongside the gold itself:

- `paraphrase_duplicate`: a non-critical question is replaced by a reworded copy of another
  (rule-based rewording: a lead-in plus synonym swaps) -> non_redundancy must drop.
- `fused`: two adjacent non-critical questions are fused with "and" into one (six remain)
  -> atomicity must drop.
- `generic`: the longest non-critical question (the one carrying the most detail) is replaced by
  a generic question that fits any task -> specificity must drop.
- `no_critical`: the critical question is replaced by a generic one, so seven remain and only the
  decision-critical unknown is lost -> coverage must drop.
- `only_five`: the last two non-critical questions are dropped -> coverage must drop.

A perturbation passes when its matching dimension scores strictly lower than the gold's and
its pairwise outcome against the gold is L or T. Deterministic: no model writes the variants.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ruler.feature_sanity import run_feature_sanity
from ruler.plan import Plan, render_plan
from ruler.records import Case, JudgeMode, PerturbationResult, SanityReport, Verdict

GENERIC_QUESTIONS = (
    "What are your main goals for this?",
    "Is there anything else I should know before we start?",
    "What does success look like for you?",
    "Do you have any other preferences I should keep in mind?",
    "How would you describe your situation right now?",
)

_SWAPS = (
    (r"\bWhat's\b", "What is"),
    (r"\bwhat's\b", "what is"),
    (r"\bWhich\b", "What"),
    (r"\bwhich\b", "what"),
    (r"\bplanning\b", "hoping"),
    (r"\btotal\b", "overall"),
    (r"\bwould you like\b", "do you want"),
    (r"\bwant\b", "wish"),
    (r"\bkind of\b", "type of"),
    (r"\bHow many\b", "What number of"),
    (r"\bHow much\b", "What amount of"),
    (r"\brealistically\b", "honestly"),
    (r"\bright now\b", "currently"),
    (r"\balready\b", "so far"),
    (r"\bbudget\b", "spending limit"),
    (r"\bexperience\b", "background"),
)


def reword(question: str) -> str:
    """A deterministic paraphrase: trailing qualifier dropped, synonym swaps, a lead-in."""
    text = question.strip()
    if ", " in text:  # drop a trailing qualifier: "..., including flights?" -> "...?"
        text = text[: text.index(", ")].rstrip() + "?"
    for pattern, replacement in _SWAPS:
        text = re.sub(pattern, replacement, text)
    return "Just to double-check, " + text[0].lower() + text[1:]


def _others(case: Case) -> list[int]:
    return [i for i in range(len(case.gold.questions)) if i != case.critical_question]


def _with(case: Case, questions: list[str]) -> Plan:
    return Plan(title=case.gold.title, questions=questions)


def paraphrase_duplicate(case: Case) -> Plan:
    others = _others(case)
    source, target = others[0], others[-1]
    questions = list(case.gold.questions)
    questions[target] = reword(questions[source])
    return _with(case, questions)


def fused(case: Case) -> Plan:
    """A question that asks two things (a generic ask joined with "and"); still seven, so the
    contract holds and atomicity is what falls."""
    a = _others(case)[0]
    questions = list(case.gold.questions)
    extra = GENERIC_QUESTIONS[(int(re.sub(r"\D", "", case.id) or 0) + 1) % 5]
    questions[a] = f"{questions[a].rstrip(' ?')} and {extra[0].lower()}{extra[1:]}"
    return _with(case, questions)


def generic(case: Case) -> Plan:
    target = max(_others(case), key=lambda i: len(case.gold.questions[i].split()))
    questions = list(case.gold.questions)
    questions[target] = GENERIC_QUESTIONS[int(re.sub(r"\D", "", case.id) or 0) % 5]
    return _with(case, questions)


def no_critical(case: Case) -> Plan:
    questions = list(case.gold.questions)
    index = case.critical_question if case.critical_question is not None else 0
    questions[index] = GENERIC_QUESTIONS[(int(re.sub(r"\D", "", case.id) or 0) + 2) % 5]
    return _with(case, questions)


def only_five(case: Case) -> Plan:
    drop = set(_others(case)[-2:])
    return _with(case, [q for i, q in enumerate(case.gold.questions) if i not in drop])


PERTURBATIONS: dict[str, tuple[Callable[[Case], Plan], str]] = {
    "paraphrase_duplicate": (paraphrase_duplicate, "non_redundancy"),
    "fused": (fused, "atomicity"),
    "generic": (generic, "specificity"),
    "no_critical": (no_critical, "coverage"),
    "only_five": (only_five, "coverage"),
}


def _check(gold: Verdict, variant: Verdict, dimension: str) -> tuple[bool, bool]:
    lower = variant.scores.get(dimension, 0) < gold.scores.get(dimension, 0)
    return lower, variant.outcome in ("L", "T")


def run_sanity(
    judge,
    cases: list[Case],
    mode: JudgeMode = "standard",
    progress: Callable[[int, int], None] | None = None,
    *,
    feature=None,
    degraded: list[dict] | None = None,
) -> SanityReport:
    """Judge gold and its five variants for every case in one batch; pass rates per variant.
    For a feature other than the planner (`feature`, a ruler.feature.Feature), its generic
    variants and hand-made `degraded` answers instead (ruler.feature_sanity)."""
    import time

    if feature is not None and not feature.is_planner:
        report = run_feature_sanity(judge, feature, cases, mode, degraded)
        if progress:
            progress(1, 1)
        return report
    started = time.perf_counter()
    names = [n for n, (_, dim) in PERTURBATIONS.items() if mode == "standard" or dim != "coverage"]
    pairs = [(c, render_plan(c.gold)) for c in cases]
    pairs += [(c, render_plan(PERTURBATIONS[n][0](c))) for n in names for c in cases]
    verdicts = judge.judge_many(pairs, mode)
    if progress:
        progress(len(pairs), len(pairs))
    gold = {c.id: v for c, v in zip(cases, verdicts[: len(cases)], strict=True)}
    results = []
    for k, name in enumerate(names):
        dimension = PERTURBATIONS[name][1]
        chunk = verdicts[len(cases) * (k + 1) : len(cases) * (k + 2)]
        checks = [
            (c.id, *_check(gold[c.id], v, dimension)) for c, v in zip(cases, chunk, strict=True)
        ]
        results.append(
            PerturbationResult(
                name=name,
                dimension=dimension,
                total=len(cases),
                passed=sum(lo and pw for _, lo, pw in checks),
                dimension_lower=sum(lo for _, lo, _ in checks),
                pairwise_not_won=sum(pw for _, _, pw in checks),
                failures=[cid for cid, lo, pw in checks if not (lo and pw)],
            )
        )
    return SanityReport(
        judge_id=judge.judge_id, mode=mode, results=results, seconds=time.perf_counter() - started
    )
