"""Prompt lever: system text, output format, instruction variant, few-shot examples.

For the planner, SmolLM2-135M follows a short user message with a numbered list far better
than a system prompt or a JSON instruction, so the default puts everything in the user message
and asks for "a one-line title, then the questions numbered 1 to 7". For any other feature the
user message is the feature's own instruction with the case's input in it (`ctx.feature`), the
variants are written from its rubric and contract, and examples are its JSON answers. Few-shot
examples come from the feature's training pool (never the ruler) and are shown as earlier chat
turns.
"""

from __future__ import annotations

import json
import random
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from levers.feature import FeatureSpec
from levers.hookspecs import hookimpl
from levers.lever import Lever
from levers.pool import Example, as_example, training_pool
from models.base import Message
from ruler.plan import Plan, parse_plan, render_plan

SYSTEM_VARIANTS = {
    "none": "",
    "planner": (
        "You are a thoughtful discovery planner. Before making any plan you ask the person a "
        "few clarifying questions about their situation."
    ),
    "concise": "You are a helpful assistant. Follow the requested format exactly and be brief.",
}
# another feature: the persona is written from its description ("planner" and "feature" alike)
FEATURE_PERSONA = "You are an expert at one job. {description} Do it carefully and exactly."

INSTRUCTION_VARIANTS = {
    "plain": "",
    "rubric": (
        "Each question must ask exactly one thing, be specific to this task, sound natural and "
        "friendly, and not overlap with any other question. Ask the most important questions "
        "first."
    ),
    "critical-first": (
        "Make question 1 the single most important thing you need to know before you can plan."
    ),
}

FORMATS = {
    "numbered": "Start with a one-line title, then list the questions numbered 1 to 7.",
    "json": 'Answer as JSON: {"title": "...", "questions": ["...", "..."]} with seven questions.',
}
# another feature: its instruction already states the format; "json" adds the contract itself
FEATURE_INSTRUCTIONS = {
    "plain": "",
    "rubric": "Before you answer, make sure your answer meets each of these:\n{rubric}",
    "critical-first": "Put the most important item first.",
}
FEATURE_JSON = "Answer with one JSON value only, matching this JSON Schema: {schema}"


class PromptParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    system: str = Field(
        "none",
        description="none | planner | feature | concise | any custom system text "
        "(planner and feature: a persona written from the feature)",
    )
    output_format: Literal["numbered", "json"] = "numbered"
    instructions: Literal["plain", "rubric", "critical-first"] = "plain"
    few_shot: int = Field(0, ge=0, le=5, description="examples drawn from the training pool")
    few_shot_seed: int = 0
    stop_after_seven: bool = Field(
        True, description="numbered format: stop generating at an eighth item"
    )
    fill_title: bool = Field(
        False, description="when the answer has no title, use the task as the title"
    )


def render_example(plan: Plan, output_format: str) -> str:
    """A planner example's answer, as the chosen format asks for it."""
    if output_format == "json":
        return json.dumps({"title": plan.title, "questions": plan.questions}, ensure_ascii=False)
    lines = [f"Title: {plan.title}"] + [f"{i}. {q}" for i, q in enumerate(plan.questions, 1)]
    return "\n".join(lines)


def task_phrase(task: str) -> str:
    """The task as it reads after "I want to": no trailing period, first letter lower-cased."""
    task = task.strip().rstrip(".")
    return task[0].lower() + task[1:] if task[:1].isupper() and not task[:2].isupper() else task


class PromptLever(Lever):
    """Build the prompt: system text, output format, instructions, few-shot examples."""

    name = "prompt"
    lever_class = "prompt"
    Params = PromptParams

    def user_text(self, task: str) -> str:
        """The planner's request for one task (subclasses rephrase it)."""
        p = self.params
        parts = [
            f"I want to {task_phrase(task)}. Before you make a plan, what seven questions "
            "would you ask me?",
            INSTRUCTION_VARIANTS[p.instructions],
            FORMATS[p.output_format],
        ]
        return " ".join(part for part in parts if part)

    def feature_text(self, feature: FeatureSpec, text: str) -> str:
        """Another feature's request for one input: its instruction, then the chosen variant."""
        p = self.params
        extra = [FEATURE_INSTRUCTIONS[p.instructions].format(rubric=feature.rubric_text())]
        if p.output_format == "json":
            extra.append(FEATURE_JSON.format(schema=feature.schema_text()))
        return "\n\n".join(part for part in [feature.render(text), *extra] if part)

    def request(self, ctx, text: str) -> str:
        """The user turn for one input, for the feature of `ctx`."""
        feature = ctx.feature
        return self.user_text(text) if feature.planner else self.feature_text(feature, text)

    def system_text(self, feature: FeatureSpec) -> str:
        system = self.params.system
        if system == "feature" or (system == "planner" and not feature.planner):
            return FEATURE_PERSONA.format(description=feature.description.strip()).strip()
        return SYSTEM_VARIANTS.get(system, system)

    def example_text(self, ctx, example: Example) -> str:
        if ctx.feature.planner and example.plan is not None:
            return render_example(example.plan, self.params.output_format)
        return ctx.feature.answer_text(example.value())

    def messages_for(self, ctx) -> list[Message]:
        system = self.system_text(ctx.feature)
        messages = [Message(role="system", content=system)] if system else []
        for example in ctx.examples:
            messages.append(Message(role="user", content=self.request(ctx, example.task)))
            messages.append(Message(role="assistant", content=self.example_text(ctx, example)))
        messages.append(Message(role="user", content=self.request(ctx, ctx.task)))
        return messages

    @hookimpl
    def prepare(self, ctx) -> None:
        numbered = ctx.feature.planner and self.params.output_format == "numbered"
        if numbered and self.params.stop_after_seven:
            stop = list(dict.fromkeys([*ctx.options.stop, "\n8."]))
            ctx.options = ctx.options.model_copy(update={"stop": stop})
        if self.params.few_shot:
            pool = list(training_pool(ctx.feature))
            random.Random(self.params.few_shot_seed).shuffle(pool)
            shots = [as_example(case, "few_shot") for case in pool[: self.params.few_shot]]
            ctx.examples[:0] = shots

    @hookimpl
    def build_messages(self, ctx) -> None:
        ctx.messages = self.messages_for(ctx)

    @hookimpl
    def finalize(self, ctx) -> None:
        if not self.params.fill_title or not ctx.feature.planner:
            return
        parsed = parse_plan(ctx.draft)
        if parsed.plan.questions and not parsed.plan.title.strip():
            title = task_phrase(ctx.task)
            ctx.draft = render_plan(
                Plan(title=title[:1].upper() + title[1:], questions=parsed.plan.questions)
            )


@hookimpl
def register_levers(register):
    register(PromptLever)
