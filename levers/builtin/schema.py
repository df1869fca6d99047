"""Schema lever: constrained decoding of the plan to a JSON schema (a title, exactly 7 questions).

The plan call carries `json_schema`: the local backend enforces all of it token by token
(llguidance, `models.backends.constrained`); remote backends (Anthropic structured output, Apple
guided generation) get the shape without length and count bounds, which they reject, and a
Python step pads or trims to seven. The prompt
is the one earlier levers built (system text, few-shot and retrieved examples), with a one-line
JSON instruction added to its request; the JSON answer is rendered back as a numbered plan.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from levers.builtin.selection import candidates, exactly_seven, plan_text
from levers.hookspecs import hookimpl
from levers.lever import Lever
from models.base import Message
from ruler.plan import QUESTION_COUNT, json_object

JSON_INSTRUCTION = (
    'Answer as JSON: {"title": "...", "questions": ["...", ...]} with seven questions.'
)


class SchemaParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title_chars: int = Field(80, ge=20, le=200, description="longest title allowed")
    question_chars: int = Field(140, ge=40, le=300, description="longest question allowed")
    min_question_chars: int = Field(12, ge=1, le=40, description="shortest question allowed")
    question_mark: bool = Field(True, description="every question must end with '?'")
    instruct: bool = Field(True, description="add the JSON instruction to the request")
    max_tokens: int = Field(320, ge=96, le=1024, description="token budget of the plan call")


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


def with_json_request(messages: list[Message]) -> list[Message]:
    """The messages with the JSON instruction appended to the last user turn."""
    last = messages[-1]
    return [*messages[:-1], Message(role=last.role, content=f"{last.content} {JSON_INSTRUCTION}")]


def plan_from(text: str, task: str) -> str:
    """The numbered plan of a JSON answer (or of whatever the model wrote instead)."""
    data = json_object(text) or {}
    questions = [str(q).strip() for q in data.get("questions", []) if str(q).strip()]
    title = str(data.get("title", "")).strip()
    if not questions:
        title, questions = candidates(text)
    return plan_text(title, task, exactly_seven(questions, []))


class SchemaLever(Lever):
    """Constrain the plan call to a JSON schema: a title and exactly seven questions."""

    name = "schema"
    lever_class = "decoding"
    Params = SchemaParams

    @hookimpl
    def generate(self, ctx) -> str:
        p = self.params
        messages = with_json_request(ctx.messages) if p.instruct else list(ctx.messages)
        schema = plan_schema(p)
        if not ctx.model.startswith(("local:", "fake:")):
            schema = api_schema(schema)
        options = ctx.options.model_copy(
            update={"json_schema": schema, "stop": [], "max_tokens": p.max_tokens}
        )
        answer = ctx.call(None, messages, options, label="plan (json schema)")
        with ctx.step("json to plan"):
            return plan_from(answer.text, ctx.task)


@hookimpl
def register_levers(register):
    register(SchemaLever)
