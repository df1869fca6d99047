"""The research tools as Claude sees them: each tool's name, description (its method's
docstring) and JSON input schema."""

from __future__ import annotations

from typing import Any

from orchestrator.researchers.claude.tools import ResearchTools

_PATCH = {
    "type": "object",
    "description": "merged over the best agent: `model`, `decoding` (merged key by key), "
    "`levers` (replaces the whole list: every lever with its params, in order)",
}
_TRAINING = {
    "type": ["object", "null"],
    "properties": {
        "kind": {"type": "string", "enum": ["sft", "orpo"]},
        "pairs": {"type": ["string", "null"], "enum": ["style", "on-policy", None]},
        "rationale": {"type": "string"},
        "steps": {"type": "integer"},
    },
    "required": ["kind", "rationale"],
}


def _spec(name: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    doc = " ".join((getattr(ResearchTools, name).__doc__ or "").split())
    schema = {"type": "object", "properties": properties, "required": required}
    return {"name": name, "description": doc, "input_schema": schema}


TOOL_SPECS: list[dict[str, Any]] = [
    _spec("results", {}, []),
    _spec("experiment", {"id": {"type": "string", "description": "e.g. 003"}}, ["id"]),
    _spec("read_source", {"path": {"type": "string"}}, ["path"]),
    _spec("notes", {}, []),
    _spec(
        "write_lever",
        {"filename": {"type": "string"}, "code": {"type": "string"}},
        ["filename", "code"],
    ),
    _spec(
        "try_agent",
        {"agent_patch": _PATCH, "n": {"type": "integer", "minimum": 1, "maximum": 3}},
        ["agent_patch"],
    ),
    _spec(
        "submit",
        {
            "hypothesis": {"type": "string"},
            "method": {"type": "string"},
            "lever_class": {"type": "string"},
            "agent_patch": _PATCH,
            "lever_filename": {"type": ["string", "null"]},
            "predicted_delta": {"type": ["number", "null"]},
            "training_request": _TRAINING,
        },
        ["hypothesis", "method", "lever_class", "agent_patch", "predicted_delta"],
    ),
]
