"""Self-critique lever: critique the draft against the rubric, then revise it; n rounds.

The rubric is the feature's (`ctx.feature.rubric`: each dimension's name and question). For the
planner the draft is shown as a numbered plan and a revision must still hold seven questions;
for any other feature the draft is its JSON answer and a revision must still hold JSON.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from levers.feature import PLANNER, FeatureSpec, json_answer
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
        True,
        description="keep the draft when the revision no longer parses (planner: as seven "
        "questions; another feature: as JSON)",
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


FEATURE_CRITIQUE_PROMPT = (
    "{label}:\n{input}\n\nHere is an answer for it:\n{draft}\n\n"
    "Check the answer against these rules:\n{checks}\n"
    "Name the parts that break a rule and say how to fix each, briefly."
)
FEATURE_REVISE_PROMPT = (
    "{request}\n\nA draft answer:\n{draft}\n\nFeedback on it:\n{critique}\n\n"
    "Rewrite the answer using the feedback. Reply with the JSON answer only."
)


def feature_critique_prompt(feature: FeatureSpec, text: str, draft: str) -> str:
    """Another feature's critique request: the input, the draft, the feature's rubric."""
    return FEATURE_CRITIQUE_PROMPT.format(
        label=feature.input_label.capitalize(),
        input=text.strip(),
        draft=draft.strip(),
        checks=feature.rubric_text(),
    )


def feature_revise_prompt(feature: FeatureSpec, text: str, draft: str, critique: str) -> str:
    return FEATURE_REVISE_PROMPT.format(
        request=feature.render(text), draft=draft.strip(), critique=critique.strip()
    )


def critique_prompt(task: str, draft: str) -> str:
    checks = "\n".join(f"- {check}" for check in RUBRIC_CHECKS.values())
    return CRITIQUE_PROMPT.format(task=task, plan=plan_lines(draft), checks=checks)


def revise_prompt(task: str, draft: str, critique: str) -> str:
    return REVISE_PROMPT.format(task=task, plan=plan_lines(draft), critique=critique.strip())


def _usable(text: str, feature: FeatureSpec = PLANNER) -> bool:
    if not feature.planner:
        return json_answer(text) is not None
    return len(parse_plan(text).plan.questions) >= 7


class SelfCritiqueLever(Lever):
    """Critique the draft against the rubric and revise it, for a number of rounds."""

    name = "self_critique"
    lever_class = "self_critique"
    Params = SelfCritiqueParams

    def prompts(self, ctx, critique: str | None) -> str:
        """The critique request (`critique` None) or the revision request, for the feature."""
        feature = ctx.feature
        if feature.planner:
            if critique is None:
                return critique_prompt(ctx.task, ctx.draft)
            return revise_prompt(ctx.task, ctx.draft, critique)
        if critique is None:
            return feature_critique_prompt(feature, ctx.task, ctx.draft)
        return feature_revise_prompt(feature, ctx.task, ctx.draft, critique)

    @hookimpl
    def refine(self, ctx) -> None:
        feature = ctx.feature
        stop = [s for s in ctx.options.stop if s]
        default_stop = ["\n8."] if feature.planner else []
        revise_options = ctx.options.model_copy(update={"stop": stop or default_stop})
        critique_options = ctx.options.model_copy(
            update={"stop": [], "max_tokens": 200, "json_schema": None}
        )
        for round_ in range(1, self.params.rounds + 1):
            critique = ctx.call(
                None,
                ctx.with_instruction(self.prompts(ctx, None)),
                critique_options,
                label=f"critique {round_}",
            )
            revised = ctx.call(
                None,
                ctx.with_instruction(self.prompts(ctx, critique.text)),
                revise_options,
                label=f"revise {round_}",
            )
            keep_old = self.params.keep_if_worse and _usable(ctx.draft, feature)
            if _usable(revised.text, feature) or not keep_old:
                ctx.draft = revised.text


@hookimpl
def register_levers(register):
    register(SelfCritiqueLever)
