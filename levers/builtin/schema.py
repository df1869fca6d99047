"""Schema lever: constrained decoding of the answer to the feature's JSON Schema.

The answer call carries `json_schema`: the local backend enforces all of it token by token
(llguidance, `models.backends.constrained`); remote backends (Anthropic structured output, Apple
guided generation) get the shape without length and count bounds, which they reject. The prompt
is the one earlier levers built (system text, few-shot and retrieved examples), with a one-line
JSON instruction added to its request.

For the planner the schema is a title and exactly seven questions, shaped by this lever's
params; a Python step pads or trims to seven and the JSON answer is rendered back as a numbered
plan. For any other feature the schema is the feature's output contract as written
(`ctx.feature.output_schema`), the title and question params do not apply, and the answer stays
JSON (re-serialized compactly when it parses).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from levers.builtin.selection import candidates, exactly_seven, plan_text
from levers.feature import FeatureSpec, json_answer
from levers.hookspecs import hookimpl
from levers.lever import Lever
from models.base import Message
from ruler.plan import QUESTION_COUNT, json_object

JSON_INSTRUCTION = (
    'Answer as JSON: {"title": "...", "questions": ["...", ...]} with seven questions.'
)
FEATURE_JSON_INSTRUCTION = "Answer with one JSON value only, matching the required format."


class SchemaParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title_chars: int = Field(80, ge=20, le=200, description="planner: longest title allowed")
    question_chars: int = Field(140, ge=40, le=300, description="planner: longest question allowed")
    min_question_chars: int = Field(
        12, ge=1, le=40, description="planner: shortest question allowed"
    )
    question_mark: bool = Field(True, description="planner: every question must end with '?'")
    instruct: bool = Field(True, description="add the JSON instruction to the request")
    max_tokens: int = Field(320, ge=96, le=1024, description="token budget of the answer call")


def plan_schema(p: SchemaParams) -> dict[str, Any]:
    """The JSON schema of a plan under these params."""
    question: dict[str, Any] = {
        "type": "string",
        "minLength": p.min_question_chars,
        "maxLength": p.question_chars,
    }
    if p.question_mark:
        question["pattern"] = r"^[A-Z][A-Za-z0-9 ,.'()/$%&-]*\?$"
    return {
        "type": "object",
        "properties": {
            "title": {"type": "string", "minLength": 3, "maxLength": p.title_chars},
            "questions": {
                "type": "array",
                "items": question,
                "minItems": QUESTION_COUNT,
                "maxItems": QUESTION_COUNT,
            },
        },
        "required": ["title", "questions"],
        "additionalProperties": False,
    }


def api_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The subset remote structured output accepts (Anthropic rejects length and count bounds
    and limits patterns): the shape without the bounds, which the seven-question step enforces."""
    if not isinstance(schema, dict):
        return schema
    dropped = {"minLength", "maxLength", "maxItems", "minItems", "pattern"}
    return {
        key: {k: api_schema(v) for k, v in value.items()}
        if key == "properties"
        else api_schema(value)
        for key, value in schema.items()
        if key not in dropped
    }


def feature_schema(feature: FeatureSpec, p: SchemaParams) -> dict[str, Any]:
    """The schema the answer call is constrained to: the planner's shaped by `p`, another
    feature's output contract as written."""
    return plan_schema(p) if feature.planner else feature.output_schema


def with_json_request(
    messages: list[Message], instruction: str = JSON_INSTRUCTION
) -> list[Message]:
    """The messages with the JSON instruction appended to the last user turn."""
    last = messages[-1]
    return [*messages[:-1], Message(role=last.role, content=f"{last.content} {instruction}")]


def answer_from(text: str) -> str:
    """Another feature's answer: its JSON value re-serialized compactly, or the text as is."""
    value = json_answer(text)
    return json.dumps(value, ensure_ascii=False) if value is not None else text


def plan_from(text: str, task: str) -> str:
    """The numbered plan of a JSON answer (or of whatever the model wrote instead)."""
    data = json_object(text) or {}
    questions = [str(q).strip() for q in data.get("questions", []) if str(q).strip()]
    title = str(data.get("title", "")).strip()
    if not questions:
        title, questions = candidates(text)
    return plan_text(title, task, exactly_seven(questions, []))


class SchemaLever(Lever):
    """Constrain the answer call to the feature's JSON Schema (planner: title + 7 questions)."""

    name = "schema"
    lever_class = "decoding"
    Params = SchemaParams

    @hookimpl
    def generate(self, ctx) -> str:
        p = self.params
        planner = ctx.feature.planner
        instruction = JSON_INSTRUCTION if planner else FEATURE_JSON_INSTRUCTION
        messages = with_json_request(ctx.messages, instruction) if p.instruct else ctx.messages
        schema = feature_schema(ctx.feature, p)
        if not ctx.model.startswith(("local:", "ct2:", "fake:")):
            schema = api_schema(schema)
        options = ctx.options.model_copy(
            update={"json_schema": schema, "stop": [], "max_tokens": p.max_tokens}
        )
        label = "plan (json schema)" if planner else "answer (json schema)"
        answer = ctx.call(None, list(messages), options, label=label)
        if not planner:
            return answer_from(answer.text)
        with ctx.step("json to plan"):
            return plan_from(answer.text, ctx.task)


@hookimpl
def register_levers(register):
    register(SchemaLever)
