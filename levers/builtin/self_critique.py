"""Self-critique lever: critique the draft against the rubric, then revise it; n rounds."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from levers.hookspecs import hookimpl
from levers.lever import Lever
from ruler.plan import parse_plan

RUBRIC_CHECKS = {
    "atomicity": "each question asks exactly one thing",
    "specificity": "each question is about this task, not generic",
    "coverage": "the most important unknowns are asked",
    "naturalness": "each question sounds like a friendly person talking",
    "non_redundancy": "no two questions ask the same thing",
}


class SelfCritiqueParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rounds: int = Field(1, ge=1, le=3)
    keep_if_worse: bool = Field(
        True, description="keep the draft when the revision no longer parses as seven questions"
    )


def plan_lines(text: str) -> str:
    parsed = parse_plan(text).plan
    lines = [f"Title: {parsed.title}"] + [f"{i}. {q}" for i, q in enumerate(parsed.questions, 1)]
    return "\n".join(lines) if parsed.questions else text


CRITIQUE_PROMPT = (
    "Task: {task}\nHere are seven clarifying questions for this task:\n{plan}\n\n"
    "Check them against these rules:\n{checks}\n"
    "Name the questions that break a rule and say how to fix each, briefly."
)
REVISE_PROMPT = (
    "I want to {task}. Here is a draft title and seven questions:\n{plan}\n\n"
    "Feedback:\n{critique}\n\nRewrite them using the feedback. Start with a one-line title, "
    "then list exactly seven questions numbered 1 to 7."
)


def critique_prompt(task: str, draft: str) -> str:
    checks = "\n".join(f"- {check}" for check in RUBRIC_CHECKS.values())
    return CRITIQUE_PROMPT.format(task=task, plan=plan_lines(draft), checks=checks)


def revise_prompt(task: str, draft: str, critique: str) -> str:
    return REVISE_PROMPT.format(task=task, plan=plan_lines(draft), critique=critique.strip())


def _usable(text: str) -> bool:
    return len(parse_plan(text).plan.questions) >= 7


class SelfCritiqueLever(Lever):
    """Critique the draft against the rubric and revise it, for a number of rounds."""

    name = "self_critique"
    lever_class = "self_critique"
    Params = SelfCritiqueParams

    @hookimpl
    def refine(self, ctx) -> None:
        stop = [s for s in ctx.options.stop if s]
        revise_options = ctx.options.model_copy(update={"stop": stop or ["\n8."]})
        critique_options = ctx.options.model_copy(update={"stop": [], "max_tokens": 200})
        for round_ in range(1, self.params.rounds + 1):
            critique = ctx.call(
                None,
                ctx.with_instruction(critique_prompt(ctx.task, ctx.draft)),
                critique_options,
                label=f"critique {round_}",
            )
            revised = ctx.call(
                None,
                ctx.with_instruction(revise_prompt(ctx.task, ctx.draft, critique.text)),
                revise_options,
                label=f"revise {round_}",
            )
            if _usable(revised.text) or not (self.params.keep_if_worse and _usable(ctx.draft)):
                ctx.draft = revised.text


@hookimpl
def register_levers(register):
    register(SelfCritiqueLever)
