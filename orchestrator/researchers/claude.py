"""`ClaudeResearcher`: Claude reads the run log and proposes the next experiment.

It sees results.tsv, the recent records, the lever catalogue with parameter schemas, the
hook specification (the plugin API it may write against) and the supervisor's notes verbatim,
and answers with structured output. It may write a new lever module; when that module fails
validation it gets one repair attempt with the validation report.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from levers.lever import LEVER_CLASSES
from models import ChatModel, GenerationOptions, Message, get_model
from orchestrator.researchers.base import LogView, Proposal, TrainingRequest
from ruler.plan import json_object

WIRE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "hypothesis",
        "method",
        "lever_class",
        "agent_patch_json",
        "lever_code",
        "lever_filename",
        "training_request",
    ],
    "properties": {
        "hypothesis": {"type": "string"},
        "method": {"type": "string"},
        "lever_class": {"type": "string", "enum": list(LEVER_CLASSES)},
        "agent_patch_json": {
            "type": "string",
            "description": "JSON object merged over the best agent (model, decoding, levers)",
        },
        "lever_code": {"type": ["string", "null"]},
        "lever_filename": {"type": ["string", "null"]},
        "training_request": {
            "anyOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["kind", "pairs", "rationale", "steps"],
                    "properties": {
                        "kind": {"type": "string", "enum": ["sft", "orpo"]},
                        "pairs": {"type": ["string", "null"], "enum": ["style", "on-policy", None]},
                        "rationale": {"type": "string"},
                        "steps": {"type": "integer"},
                    },
                },
            ]
        },
    },
}

SYSTEM = """You are the researcher in an autoresearch loop. A small on-device model runs a narrow
feature, the discovery planner: a one-line task in, a restated title and exactly seven
clarifying questions out. A frozen ruler judges each run against frontier gold answers on five
dimensions (atomicity, specificity, coverage, naturalness, non-redundancy) and pairwise
win/tie/loss; quality = 0.5*(mean rubric - 1)/4 + 0.5*(W + T/2)/N.

Each turn you propose ONE experiment: a hypothesis and the smallest change to the current best
agent that tests it. The agent is an ordered list of lever plugins with parameters. You change
it with `agent_patch_json`, a JSON object merged over the best agent config: top-level keys
`model`, `decoding` (merged key by key) and `levers` (replaces the whole list: give every lever
with its params, in order). Prefer the built-in levers listed below. When no built-in can test
your hypothesis, write a new lever module in `lever_code`: a subclass of
`levers.lever.Lever` with `name`, `lever_class` and optionally a pydantic `Params` model, whose
stage methods (`prepare`, `build_messages`, `generate`, `refine`, `finalize`, each taking the
per-case `ctx`) carry `@hookimpl` from `levers.hookspecs`, plus a module-level
`@hookimpl def register_levers(register): register(MyLever)`. Give its file name in
`lever_filename` and enable it by name in the patch. Every model call goes through
`ctx.call(model, messages, options, label=...)`.
When prompting, retrieval and pipeline levers have plateaued and you judge that weights, not
prompts, are the answer, set `training_request` (kind sft or orpo, with a rationale) instead;
a human approves or denies it. Never touch the ruler. Change one thing at a time so results
stay interpretable, never repeat a configuration already tried, and follow the supervisor's
notes. Answer with the JSON object only."""


def _hookspec_text() -> str:
    try:
        import levers.hookspecs as hookspecs

        return Path(hookspecs.__file__).read_text(encoding="utf-8")
    except (ImportError, OSError):
        return "(hook specification unavailable)"


class ClaudeResearcher:
    def __init__(self, spec: str = "anthropic:claude-sonnet-4-6", model: ChatModel | None = None):
        self.name = spec
        self.model = model or get_model(spec)
        self.options = GenerationOptions(temperature=0.3, max_tokens=4096, json_schema=WIRE_SCHEMA)

    def _system(self, log: LogView) -> str:
        catalogue = json.dumps(log.levers, indent=1, default=str)
        return (
            f"{SYSTEM}\n\n## Built-in levers and their params (JSON schema)\n{catalogue}"
            f"\n\n## The plugin API (levers/hookspecs.py)\n{_hookspec_text()}"
        )

    def _ask(self, log: LogView, user: str) -> Proposal:
        messages = [
            Message(role="system", content=self._system(log)),
            Message(role="user", content=user),
        ]
        completion = self.model.generate(messages, self.options)
        return parse_wire(completion.text)

    def propose(self, log: LogView, notes: list[str]) -> Proposal:
        recent = [e.model_dump() for e in log.experiments[-12:]]
        user = "\n\n".join(
            [
                f"## results.tsv\n{log.results_tsv or '(no experiments yet)'}",
                f"## Recent experiment records\n{json.dumps(recent, indent=1, default=str)}",
                f"## Current best: {log.best_id} (quality {log.best_quality})\n"
                f"{json.dumps(log.best_agent, indent=1)}",
                f"## Trained adapters available\n{json.dumps(log.adapters, indent=1, default=str)}",
                f"## Experiments since the last kept one: {log.since_last_kept}",
                "## Supervisor notes (verbatim)\n"
                + ("\n".join(f"- {n}" for n in notes) or "(none)"),
                "Propose the next experiment.",
            ]
        )
        return self._ask(log, user)

    def repair(self, proposal: Proposal, report: str) -> Proposal | None:
        user = (
            f"Your lever module {proposal.lever_filename} failed validation:\n{report}\n\n"
            f"The module was:\n```python\n{proposal.lever_code}\n```\n"
            "Answer with the same proposal and a corrected `lever_code`."
        )
        try:
            return self._ask(LogView(), user)
        except ValueError:
            return None


def parse_wire(text: str) -> Proposal:
    """Turn Claude's structured answer into a Proposal; a bad answer raises ValueError."""
    data = json_object(text)
    if data is None:
        raise ValueError("the researcher's answer is not valid JSON")
    try:
        patch = json.loads(data.get("agent_patch_json") or "{}")
    except (json.JSONDecodeError, TypeError) as exc:
        raise ValueError(f"agent_patch_json is not valid JSON: {exc}") from exc
    if not isinstance(patch, dict):
        raise ValueError("agent_patch_json must be a JSON object")
    request = data.get("training_request")
    return Proposal(
        hypothesis=str(data.get("hypothesis", "")).strip() or "(no hypothesis given)",
        method=str(data.get("method", "")),
        lever_class=str(data.get("lever_class", "other")),
        agent_patch=patch,
        lever_code=data.get("lever_code") or None,
        lever_filename=data.get("lever_filename") or None,
        training_request=TrainingRequest(**request) if request else None,
    )
