"""Prompt lever: system text, output format, instruction variant, few-shot examples.

SmolLM2-135M follows a short user message with a numbered list far better than a system
prompt or a JSON instruction, so the default puts everything in the user message and asks for
"a one-line title, then the questions numbered 1 to 7". Few-shot examples come from the
training pool (never the ruler) and are shown as earlier chat turns.
"""

from __future__ import annotations

import json
import random
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from levers.hookspecs import hookimpl
from levers.lever import Lever
from levers.pool import as_example, training_pool
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


class PromptParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    system: str = Field("none", description="none | planner | concise | any custom system text")
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
        p = self.params
        parts = [
            f"I want to {task_phrase(task)}. Before you make a plan, what seven questions "
            "would you ask me?",
            INSTRUCTION_VARIANTS[p.instructions],
            FORMATS[p.output_format],
        ]
        return " ".join(part for part in parts if part)

    def messages_for(self, ctx) -> list[Message]:
        p = self.params
        system = SYSTEM_VARIANTS.get(p.system, p.system)
        messages = [Message(role="system", content=system)] if system else []
        for example in ctx.examples:
            messages.append(Message(role="user", content=self.user_text(example.task)))
            messages.append(
                Message(role="assistant", content=render_example(example.plan, p.output_format))
            )
        messages.append(Message(role="user", content=self.user_text(ctx.task)))
        return messages

    @hookimpl
    def prepare(self, ctx) -> None:
        if self.params.output_format == "numbered" and self.params.stop_after_seven:
            stop = list(dict.fromkeys([*ctx.options.stop, "\n8."]))
            ctx.options = ctx.options.model_copy(update={"stop": stop})
        if self.params.few_shot:
            pool = list(training_pool())
            random.Random(self.params.few_shot_seed).shuffle(pool)
            shots = [as_example(case, "few_shot") for case in pool[: self.params.few_shot]]
            ctx.examples[:0] = shots

    @hookimpl
    def build_messages(self, ctx) -> None:
        ctx.messages = self.messages_for(ctx)

    @hookimpl
    def finalize(self, ctx) -> None:
        if not self.params.fill_title:
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
