"""Verify lever: decomposed verification of each question, rewrite only those that fail.

Each question of the draft is checked on its own against each per-question rubric dimension:
by explicit rules (one Python step, no ruler: one thing asked, on-task by embedding similarity,
reads like a question, no near-duplicate) and/or by one small yes/no model call per question
and dimension. Only the failing questions are rewritten (one call each, told which checks
failed), then re-checked once; a rewrite is kept when it fails fewer checks than the original.
Model calls build on the context earlier levers set.

Another feature's answer is one JSON value, checked whole: by rules (it keeps the feature's
contract, `levers.builtin.answers.contract_problems`; no two items of an array repeat each
other above `redundancy`) and/or by one yes/no model call per dimension of the feature's rubric.
When a check fails, one call rewrites the answer, told what failed; the rewrite is kept when it
fails fewer checks than the draft.
"""

from __future__ import annotations

import re
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from levers import retrieval
from levers.builtin.answers import contract_problems, redundancy, request_text
from levers.builtin.multi_call import first_question
from levers.builtin.selection import candidates, exactly_seven, plan_text
from levers.feature import json_answer
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
FEATURE_CHECK_PROMPT = (
    "{label}:\n{input}\n\nAnswer:\n{answer}\n\n{dimension}: {question} Answer yes or no."
)
FEATURE_REWRITE_PROMPT = (
    "{request}\n\nA draft answer:\n{answer}\n\nIt has these problems:\n{problems}\n\n"
    "Rewrite the answer to fix them. Reply with the JSON answer only."
)
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

    def answer_failures(self, ctx, text: str, label: str) -> list[str]:
        """Another feature: what an answer fails, by rules (contract, repeats) and/or by one
        yes/no model call per rubric dimension."""
        value = json_answer(text)
        failed: list[str] = []
        if self.params.checker in ("rules", "both"):
            with ctx.step(f"{label} (rules)"):
                failed += contract_problems(value, ctx.feature.output_schema)
                if value is not None and redundancy(value) > self.params.redundancy:
                    failed.append("two items of a list say the same thing")
        if self.params.checker in ("model", "both") and ctx.feature.rubric:
            failed += self.rubric_failures(ctx, text, f"{label} (model)")
        return failed

    def rubric_failures(self, ctx, text: str, label: str) -> list[str]:
        feature = ctx.feature
        prompts = [
            ctx.with_instruction(
                FEATURE_CHECK_PROMPT.format(
                    label=feature.input_label.capitalize(),
                    input=ctx.task.strip(),
                    answer=text.strip(),
                    dimension=name,
                    question=question,
                )
            )
            for name, question in feature.rubric
        ]
        options = ctx.options.model_copy(
            update={"max_tokens": 3, "stop": ["\n"], "json_schema": None}
        )
        answers = ctx.call_many(None, prompts, options, label=label)
        return [
            f"{name}: {question}"
            for (name, question), a in zip(feature.rubric, answers, strict=True)
            if not a.text.strip().lower().startswith("yes")
        ]

    def refine_answer(self, ctx) -> None:
        """Another feature: check the whole answer; rewrite it once when a check fails."""
        failed = self.answer_failures(ctx, ctx.draft, "check answer")
        if not failed:
            return
        prompt = FEATURE_REWRITE_PROMPT.format(
            request=request_text(ctx),
            answer=ctx.draft.strip(),
            problems="\n".join(f"- {problem}" for problem in failed),
        )
        options = ctx.options.model_copy(update={"stop": [], "json_schema": None})
        rewrite = ctx.call(None, ctx.with_instruction(prompt), options, label="rewrite answer")
        if len(self.answer_failures(ctx, rewrite.text, "re-check answer")) < len(failed):
            ctx.draft = rewrite.text

    @hookimpl
    def refine(self, ctx) -> None:
        if not ctx.feature.planner:
            self.refine_answer(ctx)
            return
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
