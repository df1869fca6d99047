"""Info-gain lever: pick the seven questions that best separate the branches of the solution space.

One call lists the branches (the decisions the plan hinges on: where the right plan differs
with the person's situation); one call over-generates candidate questions; a Python step picks
seven by greedy facility location over MiniLM embeddings: a question's value is how much it
raises the best similarity of every branch (weight `branch_weight`) and of every other
candidate (the rest) to the chosen set, so the seven cover the branches and each other without
repeating. Both calls build on the context earlier levers set.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from levers import retrieval
from levers.builtin.selection import exactly_seven, facility_location, overgenerate, plan_text
from levers.hookspecs import hookimpl
from levers.lever import Lever
from ruler.plan import QUESTION_COUNT, parse_plan

BRANCHES_PROMPT = (
    "I want to {task}. A good plan for this depends on my situation. List the {b} decisions "
    "the plan hinges on: the points where the right plan would be different for different "
    "people. Start with a one-line title, then the decisions as short phrases numbered 1 to {b}."
)


class InfoGainParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    branches: int = Field(6, ge=3, le=10, description="how many solution-space branches to list")
    n: int = Field(12, ge=8, le=20, description="how many candidate questions to ask for")
    top_up: int = Field(
        0, ge=0, le=3, description="extra sampled calls while there are fewer than n candidates"
    )
    branch_weight: float = Field(
        0.7, ge=0.0, le=1.0, description="weight of covering branches vs covering candidates"
    )


def select(branches: list[str], questions: list[str], weight: float) -> list[str]:
    """Seven questions by weighted facility location over branches and candidates."""
    if len(questions) <= QUESTION_COUNT:
        return questions
    vectors = retrieval.embed([*branches, *questions])
    items = vectors[len(branches) :]
    weights = np.concatenate(
        [
            np.full(len(branches), weight / max(len(branches), 1)),
            np.full(len(questions), (1.0 - weight) / len(questions)),
        ]
    )
    chosen = facility_location(vectors, weights, items, QUESTION_COUNT)
    return [questions[i] for i in sorted(chosen)]


class InfoGainLever(Lever):
    """List the plan's decision branches, over-generate, keep the 7 that best cover them."""

    name = "info_gain"
    lever_class = "multi_call"
    features = ("planner",)  # it picks seven questions: the planner's contract
    Params = InfoGainParams

    @hookimpl
    def generate(self, ctx) -> str:
        p = self.params
        options = ctx.options.model_copy(update={"stop": [f"\n{p.branches + 1}."]})
        prompt = BRANCHES_PROMPT.format(task=ctx.task.strip().rstrip("."), b=p.branches)
        listing = ctx.call(None, ctx.with_instruction(prompt), options, label="list branches")
        branches = parse_plan(listing.text).plan.questions or [ctx.task]
        title, questions = overgenerate(ctx, p.n, p.top_up)
        with ctx.step(f"select 7 of {len(questions)} by branch coverage"):
            kept = select(branches, questions, p.branch_weight)
            return plan_text(title, ctx.task, exactly_seven(kept, questions))


@hookimpl
def register_levers(register):
    register(InfoGainLever)
