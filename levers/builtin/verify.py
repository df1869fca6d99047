"""Verify lever: decomposed verification of each question, rewrite only those that fail.

Each question of the draft is checked on its own against each per-question rubric dimension:
by explicit rules (one Python step, no ruler: one thing asked, on-task by embedding similarity,
reads like a question, no near-duplicate) and/or by one small yes/no model call per question
and dimension. Only the failing questions are rewritten (one call each, told which checks
failed), then re-checked once; a rewrite is kept when it fails fewer checks than the original.
Model calls build on the context earlier levers set.
"""

from __future__ import annotations

import re
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from levers import retrieval
from levers.builtin.multi_call import first_question
from levers.builtin.selection import candidates, exactly_seven, plan_text
from levers.hookspecs import hookimpl
from levers.lever import Lever

CHECKS = {
    "atomicity": "ask exactly one thing",
    "specificity": "ask about this particular task, not something generic",
    "naturalness": "sound like a friendly person talking",
    "non_redundancy": "ask something the other questions do not already ask",
}
MODEL_CHECKS = ("atomicity", "specificity", "naturalness")
CHECK_PROMPT = "Task: {task}\nQuestion: {question}\nDoes this question {check}? Answer yes or no."
REWRITE_PROMPT = (
    "I want to {task}. Rewrite this question so that it {fixes}: {question} "
    "Reply with the question only."
)
_JOINED = re.compile(
    r"\b(?:and|or)\s+(?:what|how|when|where|who|which|do|does|is|are|will|would|can)\b", re.I
)


class VerifyParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    checker: Literal["rules", "model", "both"] = "rules"
    specificity_min: float = Field(0.25, ge=0.0, le=0.8, description="min similarity to task")
    redundancy: float = Field(0.85, ge=0.5, le=1.0, description="max similarity of two questions")
    rewrite_tokens: int = Field(48, ge=16, le=96, description="tokens per rewritten question")


def rule_failures(task: str, questions: list[str], p: VerifyParams) -> list[set[str]]:
    """Per question, the dimensions it fails by the explicit rules."""
    vectors = retrieval.embed([task, *questions])
    on_task = vectors[1:] @ vectors[0]
    sims = vectors[1:] @ vectors[1:].T
    np.fill_diagonal(sims, 0.0)
    failures = []
    for i, q in enumerate(questions):
        failed = set()
        if q.count("?") > 1 or _JOINED.search(q):
            failed.add("atomicity")
        if float(on_task[i]) < p.specificity_min:
            failed.add("specificity")
        if not q.endswith("?") or not 4 <= len(q.split()) <= 30:
            failed.add("naturalness")
        if sims.size and float(sims[i].max()) > p.redundancy:
            failed.add("non_redundancy")
        failures.append(failed)
    return failures


def model_failures(ctx, questions: list[str], label: str) -> list[set[str]]:
    """Per question, the dimensions a yes/no model call says it fails (one call each)."""
    task = ctx.task.strip().rstrip(".")
    prompts = [
        ctx.with_instruction(CHECK_PROMPT.format(task=task, question=q, check=CHECKS[d]))
        for q in questions
        for d in MODEL_CHECKS
    ]
    options = ctx.options.model_copy(update={"max_tokens": 3, "stop": ["\n"], "json_schema": None})
    answers = ctx.call_many(None, prompts, options, label=label)
    said_no = [not a.text.strip().lower().startswith("yes") for a in answers]
    width = len(MODEL_CHECKS)
    return [
        {d for d, no in zip(MODEL_CHECKS, said_no[i * width : (i + 1) * width], strict=True) if no}
        for i in range(len(questions))
    ]


class VerifyLever(Lever):
    """Check each question against each rubric dimension; rewrite only the failing ones."""

    name = "verify"
    lever_class = "self_critique"
    Params = VerifyParams

    def failures(self, ctx, questions: list[str], only: list[int], label: str) -> list[set[str]]:
        """The failed dimensions of questions[i] for i in `only` (checks by `checker`)."""
        found: list[set[str]] = [set() for _ in only]
        if self.params.checker in ("rules", "both"):
            with ctx.step(f"{label} (rules)"):
                every = rule_failures(ctx.task, questions, self.params)
            found = [f | every[i] for f, i in zip(found, only, strict=True)]
        if self.params.checker in ("model", "both"):
            asked = model_failures(ctx, [questions[i] for i in only], f"{label} (model)")
            found = [f | a for f, a in zip(found, asked, strict=True)]
        return found

    @hookimpl
    def refine(self, ctx) -> None:
        title, questions = candidates(ctx.draft)
        if not questions:
            return
        everyone = list(range(len(questions)))
        failed = self.failures(ctx, questions, everyone, f"check {len(questions)}")
        bad = [i for i in everyone if failed[i]]
        if not bad:
            return
        task = ctx.task.strip().rstrip(".")
        prompts = [
            ctx.with_instruction(
                REWRITE_PROMPT.format(
                    task=task,
                    question=questions[i],
                    fixes=" and ".join(CHECKS[d] for d in sorted(failed[i])),
                )
            )
            for i in bad
        ]
        options = ctx.options.model_copy(
            update={"max_tokens": self.params.rewrite_tokens, "stop": [], "json_schema": None}
        )
        rewrites = ctx.call_many(None, prompts, options, label=f"rewrite {len(bad)}")
        revised = list(questions)
        for i, answer in zip(bad, rewrites, strict=True):
            revised[i] = first_question(answer.text, questions[i])
        again = self.failures(ctx, revised, bad, f"re-check {len(bad)}")
        for i, still in zip(bad, again, strict=True):
            if len(still) >= len(failed[i]):
                revised[i] = questions[i]
        ctx.draft = plan_text(title, ctx.task, exactly_seven(revised, questions))


@hookimpl
def register_levers(register):
    register(VerifyLever)
