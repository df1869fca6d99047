"""Scripted research turns over the mocked Anthropic API: real-shaped 2.x tool-use responses
(`tool_use` blocks, `stop_reason`, usage) and a recorder of every request body."""

from __future__ import annotations

import itertools
import json
from typing import Any

import httpx2

from orchestrator.researchers.claude import ClaudeResearcher
from tests.anthropic_mock import mock_model

_ids = itertools.count(1)
USAGE = {"input_tokens": 900, "output_tokens": 200, "cache_read_input_tokens": 4000}


def tool_use(name: str, **arguments: Any) -> dict[str, Any]:
    return {"type": "tool_use", "id": f"toolu_{next(_ids):04d}", "name": name, "input": arguments}


def reply(*blocks: dict[str, Any], text: str = "", **usage: int) -> dict[str, Any]:
    """A Messages API response asking for the given tool calls (parallel when several)."""
    content = ([{"type": "text", "text": text}] if text else []) + list(blocks)
    return {
        "id": f"msg_{next(_ids):04d}",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-6",
        "content": content,
        "stop_reason": "tool_use" if blocks else "end_turn",
        "stop_sequence": None,
        "usage": {
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            **USAGE,
            **usage,
        },
    }


def submit(hypothesis: str, patch: dict | None = None, **fields: Any) -> dict[str, Any]:
    return tool_use(
        "submit",
        hypothesis=hypothesis,
        method=fields.pop("method", "one change"),
        lever_class=fields.pop("lever_class", "prompt"),
        agent_patch=patch or {},
        predicted_delta=fields.pop("predicted_delta", 0.01),
        **fields,
    )


class Script:
    """Answers requests in order; keeps every request body."""

    def __init__(self, *responses: dict[str, Any]):
        self.responses = list(responses)
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.bodies.append(json.loads(request.content))
        if not self.responses:
            return httpx2.Response(500, json={"type": "error", "error": {"type": "api_error"}})
        return httpx2.Response(200, json=self.responses.pop(0))

    def tool_results(self, index: int) -> list[str]:
        """The tool_result texts request `index` carried back."""
        last = self.bodies[index]["messages"][-1]
        return [b["content"] for b in last["content"] if b.get("type") == "tool_result"]


def researcher(script: Script, **kwargs: Any) -> ClaudeResearcher:
    return ClaudeResearcher(model=mock_model(script, max_retries=0), **kwargs)


def strings(value: Any) -> list[str]:
    """Every string in a decoded JSON value (keys included)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *strings(v))]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return []


GOOD_LEVER = '''"""Ask for questions grounded in the task's own words."""

from levers.hookspecs import hookimpl
from levers.lever import Lever
from models.base import Message


class GroundedQuestions(Lever):
    """Append an instruction to use the task's own nouns in every question."""

    name = "grounded"
    lever_class = "prompt"

    @hookimpl
    def build_messages(self, ctx):
        last = ctx.messages[-1]
        ctx.messages[-1] = Message(
            role=last.role, content=last.content + " Use the task's own words in every question."
        )


@hookimpl
def register_levers(register):
    register(GroundedQuestions)
'''
# GOOD_LEVER edits ctx.messages[-1]: alone it would fail, behind the prompt lever it works.
# BROKEN_IN_AGENT reads a field Message does not have: it fails inside the agent.
BROKEN_IN_AGENT = GOOD_LEVER.replace("last.content +", "last.text +")
GROUNDED_PATCH = {"levers": [{"name": "prompt", "params": {}}, {"name": "grounded", "params": {}}]}
