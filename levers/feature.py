"""The feature an agent is built for, as lever code sees it: `FeatureSpec` (plain data).

A feature is one narrow LLM job: an instruction (the stock prompt, `{input}` marking where a
case's input goes), an output contract (a JSON Schema), a rubric (named dimensions with what
each asks) and a training pool. The ruler owns the feature (`ruler.feature`); `levers` never
imports the ruler, so `runlog` copies what lever code may know into this spec and hands it to
the pipeline process (the `prepare` request) and from there to every lever (`ctx.feature`).
The spec carries no case and no gold: only the instruction, the schema, the rubric's names
and questions, and the path of the training pool (the one ruler folder levers may read).

`PLANNER` is the discovery planner, the default feature: every built-in lever behaves with it
exactly as it did before features existed. A lever that only makes sense for some features
says so with `features = ("planner",)`; `fits` is how listings and researchers filter them.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PLANNER_NAME = "planner"
INPUT_MARK = "{input}"
_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.S)


class FeatureSpec(BaseModel):
    """What lever code may know of the feature: instruction, contract, rubric, pool path."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    description: str = ""
    instruction: str
    input_label: str = "input"
    output_schema: dict[str, Any]
    rubric: tuple[tuple[str, str], ...] = ()
    pool: str = Field("", description="the training pool's JSONL ('' = the planner's shipped one)")

    @property
    def planner(self) -> bool:
        """Whether this is the discovery planner (whose levers keep their numbered-list ways)."""
        return self.name == PLANNER_NAME

    def render(self, text: str) -> str:
        """The instruction with one case's input in place of `{input}` (appended when the
        instruction has no mark). Braces elsewhere, such as a JSON example, stay as written."""
        if INPUT_MARK in self.instruction:
            return self.instruction.replace(INPUT_MARK, text.strip())
        return f"{self.instruction.rstrip()}\n\n{self.input_label.capitalize()}: {text.strip()}"

    def schema_text(self) -> str:
        """The output contract as compact JSON (for a prompt or a researcher)."""
        return json.dumps(self.output_schema, separators=(",", ":"), ensure_ascii=False)

    def rubric_text(self) -> str:
        """The rubric as '- name: description' lines."""
        return "\n".join(f"- {name}: {description}" for name, description in self.rubric)

    def answer_text(self, answer: Any) -> str:
        """An answer as the model should write it: one compact JSON value."""
        return json.dumps(answer, ensure_ascii=False)


def fits(features: tuple[str, ...] | None, feature: FeatureSpec | str) -> bool:
    """Whether a lever declaring `features` (None or empty: any feature) serves `feature`."""
    name = feature if isinstance(feature, str) else feature.name
    return not features or name in features


def lever_features(cls: type) -> tuple[str, ...]:
    """The features a lever class declares it serves (empty: any)."""
    found = getattr(cls, "features", None) or ()
    return tuple(str(f) for f in found)


def json_answer(text: str) -> Any:
    """The JSON value in a model's text, or None (never raises): a fenced block first, then the
    outermost object, then the outermost array; trailing chatter is ignored."""
    for block in [*_FENCE.findall(text), text]:
        for opening, closing in (("{", "}"), ("[", "]")):
            value = _outermost(block, opening, closing)
            if value is not None:
                return value
    return None


def _outermost(text: str, opening: str, closing: str) -> Any:
    start = text.find(opening)
    if start == -1:
        return None
    try:  # the first complete value from the first opening bracket
        value, _ = json.JSONDecoder().raw_decode(text[start:])
        return value
    except json.JSONDecodeError:
        pass
    end = text.rfind(closing)
    if end <= start:
        return None
    try:
        return json.loads(text[start : end + 1])
    except json.JSONDecodeError:
        return None


PLANNER_INSTRUCTION = (
    "I want to {input}. Before you make a plan, what seven questions would you ask me? "
    "Start with a one-line title, then list the questions numbered 1 to 7."
)
PLANNER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "questions": {"type": "array", "items": {"type": "string"}, "minItems": 7, "maxItems": 7},
    },
    "required": ["title", "questions"],
    "additionalProperties": False,
}
PLANNER = FeatureSpec(
    name=PLANNER_NAME,
    description=(
        "The discovery planner: a one-line task goes in; a restated title and exactly seven "
        "clarifying questions come out."
    ),
    instruction=PLANNER_INSTRUCTION,
    input_label="task",
    output_schema=PLANNER_SCHEMA,
    rubric=(
        ("atomicity", "each question asks exactly one thing"),
        ("specificity", "each question is about this task, not generic"),
        ("coverage", "the most important unknowns are asked"),
        ("naturalness", "each question sounds like a friendly person talking"),
        ("non_redundancy", "no two questions ask the same thing"),
    ),
)

_active: list[FeatureSpec] = [PLANNER]


def active() -> FeatureSpec:
    """The feature this process's levers serve (the pipeline process sets it on `prepare`)."""
    return _active[0]


def activate(spec: FeatureSpec) -> None:
    """Make `spec` the feature of this process (levers without a `ctx` at hand read it)."""
    _active[0] = spec
