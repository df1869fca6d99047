"""Answer-simulation lever: keep the questions whose simulated answers differ most.

One call over-generates candidate questions; then, for each candidate, k short plausible
answers are simulated (one call per answer, all batched, each imagining a different person and
sampled at `temperature`); a question whose answers spread widely (mean pairwise embedding
distance) is one whose answer would change the plan most. A Python step keeps the seven most
spread-out candidates, skipping near-duplicates. Every call builds on the context earlier
levers set.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from levers import retrieval
from levers.builtin.selection import exactly_seven, mmr, overgenerate, plan_text
from levers.hookspecs import hookimpl
from levers.lever import Lever
from ruler.plan import QUESTION_COUNT

PERSONAS = (
    "a busy parent",
    "a student on a tight budget",
    "a retired person with plenty of time",
    "a small-business owner",
    "someone doing this for the first time",
)
ANSWER_PROMPT = (
    "Someone wants to {task}. You are {persona}. They ask you: {question} "
    "Reply in one short sentence, as that person would."
)


class AnswerSimulationParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n: int = Field(12, ge=8, le=20, description="how many candidate questions to ask for")
    top_up: int = Field(
        0, ge=0, le=3, description="extra sampled calls while there are fewer than n candidates"
    )
    k: int = Field(3, ge=2, le=5, description="simulated answers per question")
    answer_tokens: int = Field(32, ge=8, le=96, description="tokens per simulated answer")
    temperature: float = Field(0.7, ge=0.0, le=1.5, description="sampling for the answers")
    redundancy: float = Field(0.85, ge=0.3, le=1.0, description="max similarity of two kept")


def spread(vectors: np.ndarray) -> float:
    """Mean pairwise cosine distance of k normalized answer vectors (0: all say the same)."""
    k = len(vectors)
    return float((k * k - (vectors @ vectors.T).sum()) / max(k * (k - 1), 1))


def select(questions: list[str], answers: list[list[str]], redundancy: float) -> list[str]:
    """The seven questions with the most spread-out answers, near-duplicates skipped."""
    if len(questions) <= QUESTION_COUNT:
        return questions
    k = len(answers[0])
    vectors = retrieval.embed([a for group in answers for a in group])
    scores = np.array([spread(vectors[i * k : (i + 1) * k]) for i in range(len(questions))])
    chosen = mmr(scores, retrieval.embed(questions), QUESTION_COUNT, redundancy)
    return [questions[i] for i in sorted(chosen)]


class AnswerSimulationLever(Lever):
    """Simulate k answers per candidate question; keep the 7 whose answers differ most."""

    name = "answer_simulation"
    lever_class = "multi_call"
    features = ("planner",)  # it picks seven questions: the planner's contract
    Params = AnswerSimulationParams

    @hookimpl
    def generate(self, ctx) -> str:
        p = self.params
        title, questions = overgenerate(ctx, p.n, p.top_up)
        task = ctx.task.strip().rstrip(".")
        prompts = [
            ctx.with_instruction(
                ANSWER_PROMPT.format(task=task, persona=PERSONAS[j], question=question)
            )
            for question in questions
            for j in range(p.k)
        ]
        options = ctx.options.model_copy(
            update={"max_tokens": p.answer_tokens, "temperature": p.temperature, "stop": ["\n"]}
        )
        label = f"simulate {p.k} answers x {len(questions)}"
        texts = [c.text for c in ctx.call_many(None, prompts, options, label=label)]
        answers = [texts[i * p.k : (i + 1) * p.k] for i in range(len(questions))]
        with ctx.step(f"keep 7 of {len(questions)} by answer spread"):
            kept = select(questions, answers, p.redundancy)
            return plan_text(title, ctx.task, exactly_seven(kept, questions))


@hookimpl
def register_levers(register):
    register(AnswerSimulationLever)
