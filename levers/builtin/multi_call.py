"""Multi-call lever: decomposition (unknowns, then one question each) or over-generate-and-prune.

`decompose`: one call lists the title and the unknowns; then one call per unknown writes its
question (the per-unknown calls run side by side, batched with every other case).
`overgenerate`: one call asks for N > 7 questions; a Python step keeps 7 of them, greedily by
specificity (embedding similarity to the task) while skipping near-duplicates (similarity above
`redundancy` to a question already kept).

Another feature (`ctx.feature`) has no questions to decompose or prune, so the two modes work
on whole answers: `decompose` first lists the input's key facts (one call), then answers the
feature's request with those notes (one call); `overgenerate` samples N // 4 answers (at least
two, seeded) and a Python step keeps the one that best keeps the contract, repeats no array item
above `redundancy`, and is most grounded in the input (`levers.builtin.answers.best_answer`).
"""

from __future__ import annotations

import re
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from levers import retrieval
from levers.builtin.answers import best_answer, request_text
from levers.hookspecs import hookimpl
from levers.lever import Lever
from models.base import Completion
from ruler.plan import QUESTION_COUNT, Plan, parse_plan, render_plan


class MultiCallParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["decompose", "overgenerate"] = "decompose"
    n: int = Field(
        12,
        ge=8,
        le=20,
        description="overgenerate: how many questions to ask for (another feature: n // 4 answers)",
    )
    redundancy: float = Field(0.8, ge=0.3, le=1.0, description="overgenerate: max similarity")
    question_tokens: int = Field(48, ge=16, le=200, description="decompose: tokens per question")


UNKNOWNS_PROMPT = (
    "I want to {task}. Before making a plan, list the seven most important things you do not "
    "know yet about my situation. Start with a one-line title, then the unknowns as short "
    "phrases numbered 1 to 7."
)
QUESTION_PROMPT = (
    "I want to {task}. Write one short, friendly question that asks me about: {unknown}. "
    "Reply with the question only."
)
OVERGENERATE_PROMPT = (
    "I want to {task}. Before you make a plan, what {n} questions would you ask me? Start with "
    "a one-line title, then list the questions numbered 1 to {n}."
)
FACTS_PROMPT = (
    "{label}:\n{input}\n\nList the key facts in this {label_lower} that an answer must "
    "reflect, as short phrases numbered 1 to 7. Use only what it says."
)
WITH_FACTS = "{request}\n\nKey facts noted from the {label_lower}:\n{facts}"


def first_question(text: str, unknown: str) -> str:
    """The question in a one-question answer (or the unknown turned into one)."""
    for line in text.splitlines():
        line = re.sub(r"^\s*(?:\d+[.)]|[-*•]|Q:|Question:)\s*", "", line).strip().strip('"*')
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", line) if len(s) > 8]
        asking = [s for s in sentences if s.endswith("?")]
        if asking:
            return asking[0]
        if sentences:
            return sentences[0].rstrip(".!") + "?"
    return f"What about {unknown.rstrip('?. ')}?"


def prune(task: str, questions: list[str], keep: int, redundancy: float) -> list[str]:
    """Keep `keep` questions: most task-specific first, skipping near-duplicates."""
    questions = list(dict.fromkeys(q for q in questions if q.strip()))
    if len(questions) <= keep:
        return questions
    vectors = retrieval.embed([task, *questions])
    specificity = vectors[1:] @ vectors[0]
    chosen: list[int] = []
    for i in np.argsort(-specificity, kind="stable"):
        if all(float(vectors[1 + i] @ vectors[1 + j]) <= redundancy for j in chosen):
            chosen.append(int(i))
        if len(chosen) == keep:
            break
    for i in range(len(questions)):  # too many near-duplicates: fill with the rest
        if len(chosen) < keep and i not in chosen:
            chosen.append(i)
    return [questions[i] for i in sorted(chosen)]


class MultiCallLever(Lever):
    """Replace the single call: decompose into unknowns, or over-generate and prune to seven."""

    name = "multi_call"
    lever_class = "multi_call"
    Params = MultiCallParams

    @hookimpl
    def generate(self, ctx) -> str:
        if not ctx.feature.planner:
            if self.params.mode == "decompose":
                return self._facts_then_answer(ctx)
            return self._sample_and_pick(ctx)
        if self.params.mode == "decompose":
            return self._decompose(ctx)
        return self._overgenerate(ctx)

    def _facts_then_answer(self, ctx) -> str:
        """Another feature: list the input's key facts, then answer with them in view."""
        label = ctx.feature.input_label
        facts_prompt = FACTS_PROMPT.format(
            label=label.capitalize(), label_lower=label, input=ctx.task.strip()
        )
        facts_options = ctx.options.model_copy(
            update={"stop": ["\n8."], "max_tokens": 160, "json_schema": None}
        )
        listing = ctx.call(
            None, ctx.with_instruction(facts_prompt), facts_options, label="list key facts"
        )
        facts = parse_plan(listing.text).plan.questions or [listing.text.strip()]
        request = WITH_FACTS.format(
            request=request_text(ctx),
            label_lower=label,
            facts="\n".join(f"- {fact}" for fact in facts if fact),
        )
        return ctx.call(None, ctx.with_instruction(request), ctx.options, label="answer").text

    def _sample_and_pick(self, ctx) -> str:
        """Another feature: sample n // 4 answers, keep the best by explicit checks."""
        k = max(2, self.params.n // 4)
        messages = ctx.with_instruction(request_text(ctx))
        answers = [
            ctx.call(
                None,
                messages,
                ctx.options.model_copy(update={"temperature": 0.7, "seed": i}),
                label=f"answer {i + 1}/{k}",
            ).text
            for i in range(k)
        ]
        with ctx.step(f"keep the best of {k}"):
            return best_answer(ctx.feature, ctx.task, answers, self.params.redundancy)

    def _decompose(self, ctx) -> str:
        listing = ctx.call(
            None,
            ctx.with_instruction(UNKNOWNS_PROMPT.format(task=ctx.task)),
            ctx.options,
            label="list unknowns",
        )
        parsed = parse_plan(listing.text).plan
        unknowns = parsed.questions[:QUESTION_COUNT] or [ctx.task]
        options = ctx.options.model_copy(update={"max_tokens": self.params.question_tokens})
        prompts = [
            ctx.with_instruction(QUESTION_PROMPT.format(task=ctx.task, unknown=u)) for u in unknowns
        ]
        answers: list[Completion] = ctx.call_many(None, prompts, options, label="one question each")
        questions = [first_question(a.text, u) for a, u in zip(answers, unknowns, strict=True)]
        return render_plan(Plan(title=parsed.title or ctx.task.capitalize(), questions=questions))

    def _overgenerate(self, ctx) -> str:
        n = self.params.n
        stop = [s for s in ctx.options.stop if not s.strip().rstrip(".").isdigit()]
        options = ctx.options.model_copy(update={"stop": [*stop, f"\n{n + 1}."]})
        answer = ctx.call(
            None,
            ctx.with_instruction(OVERGENERATE_PROMPT.format(task=ctx.task, n=n)),
            options,
            label=f"ask for {self.params.n}",
        )
        parsed = parse_plan(answer.text).plan
        with ctx.step(f"prune {len(parsed.questions)} to 7"):
            kept = prune(ctx.task, parsed.questions, QUESTION_COUNT, self.params.redundancy)
        return render_plan(Plan(title=parsed.title or ctx.task.capitalize(), questions=kept))


@hookimpl
def register_levers(register):
    register(MultiCallLever)
