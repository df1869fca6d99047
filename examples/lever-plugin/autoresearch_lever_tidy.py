"""An example lever plugin: tidy the plan's questions after generation.

Install it into the project's venv with `.venv/bin/pip install --no-build-isolation -e
examples/lever-plugin` (see README.md), then enable it in agent.toml:

    [[levers]]
    name = "tidy_questions"
    [levers.params]
    max_words = 25
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from levers import Lever, Plan, hookimpl, parse_plan, render_plan


class TidyParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_words: int = Field(30, ge=5, le=80, description="drop questions longer than this")


class TidyQuestions(Lever):
    """End every question with '?', drop duplicates and overlong ones, keep seven."""

    name = "tidy_questions"
    lever_class = "other"
    Params = TidyParams

    @hookimpl
    def finalize(self, ctx) -> None:
        parsed = parse_plan(ctx.draft).plan
        if not parsed.questions:
            return
        with ctx.step("tidy questions"):
            questions = [q.strip().rstrip(".") for q in parsed.questions]
            questions = [q if q.endswith("?") else q + "?" for q in questions if q]
            short = [q for q in questions if len(q.split()) <= self.params.max_words]
            kept = list(dict.fromkeys(short or questions))[:7]
            ctx.draft = render_plan(Plan(title=parsed.title, questions=kept))


@hookimpl
def register_levers(register):
    register(TidyQuestions)
