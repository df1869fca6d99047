"""`ClaudeResearcher`: Claude works a research turn as a coding agent with tools.

Each `propose` is a research turn (`orchestrator.researchers.claude.subgraph`): Claude reads the
run log through the tools (`results`, `experiment`, `read_source`, `notes`), drafts and
validates lever modules inside the proposed agent (`write_lever`), tries agents on training-pool
tasks (`try_agent`) and ends with `submit`. A lever that fails validation comes back as the
tool's result, and Claude repairs it in the same conversation. The sealed holdout (the decisive
gate's cases outside the keep gate, and every gold question) never reaches it: the tool layer
gives those only as aggregates.
"""

from __future__ import annotations

import json
from pathlib import Path

from levers.feature import FeatureSpec
from models import get_model
from orchestrator.researchers.base import LogView, Proposal, ProposalFailed, ResearchKit
from orchestrator.researchers.claude.subgraph import RESEARCH_GRAPH, MessagesClient, ResearchContext

SYSTEM = """You are the researcher in an autoresearch loop. A small on-device model runs a narrow
feature, the discovery planner: a one-line task in, a restated title and exactly seven
clarifying questions out. A frozen ruler judges each run against frontier gold answers on five
dimensions (atomicity, specificity, coverage, naturalness, non-redundancy) and pairwise
win/tie/loss; quality = 0.5*(mean rubric - 1)/4 + 0.5*(W + T/2)/N.

Each turn you run ONE experiment: a hypothesis and the smallest change to the current best agent
that tests it. Work with the tools: `results` and `experiment` show what was tried and why it was
kept or discarded (per-case plans, scores and rationales for the keep gate's cases only; the
decisive gate's other cases are a sealed holdout you see as aggregates), `read_source` shows the
agent's files and any lever's source (`lever:<name>`), `notes` the supervisor's notes and every
training request with its decision. The agent is an ordered list of lever plugins with
parameters; `agent_patch` is a JSON object merged over the best agent: `model`, `decoding`
(merged key by key) and `levers` (replaces the whole list: give every lever with its params, in
order). Prefer the built-in levers. When none can test your hypothesis, write a lever module with
`write_lever`: a subclass of `levers.lever.Lever` with `name`, `lever_class` and optionally a
pydantic `Params` model, whose stage methods (`prepare`, `build_messages`, `generate`, `refine`,
`finalize`, each taking the per-case `ctx`) carry `@hookimpl` from `levers.hookspecs`, plus a
module-level `@hookimpl def register_levers(register): register(MyLever)`. Every model call goes
through `ctx.call(model, messages, options, label=...)`. `write_lever` validates the lever inside
the agent and returns the report: fix a failure and write it again. `try_agent` runs an agent on
up to three training-pool tasks before you spend an experiment. End the turn with `submit`,
naming the lever file you wrote, and pre-register `predicted_delta`, the quality change you
expect on the keep gate. When prompting, retrieval and pipeline levers have plateaued and the
candidate can be trained here (see `trainable_here`), submit a `training_request` instead; a
human approves or denies it. Never touch the ruler. Change one thing at a time, never repeat a
configuration already run (a repeat is refused), and follow the supervisor's notes."""


def _hookspec_text() -> str:
    try:
        import levers.hookspecs as hookspecs

        return Path(hookspecs.__file__).read_text(encoding="utf-8")
    except (ImportError, OSError):
        return "(hook specification unavailable)"


FEATURE_INTRO = """You are the researcher in an autoresearch loop. A small on-device model runs
a narrow feature, {name}: {description}
An input (a {label}) goes in; one JSON answer comes out, and it must keep the output contract,
this JSON Schema (an answer that breaks it is a failed case, scored as a loss):
{schema}
A frozen ruler judges each run against frontier gold answers on {count} dimensions, each scored
1-5:
{rubric}
and pairwise win/tie/loss; quality = 0.5*(mean rubric - 1)/4 + 0.5*(W + T/2)/N.
Lever code reads the feature as `ctx.feature` (`instruction`, `output_schema`, `rubric`,
`render(input)`) and the case input as `ctx.task`; an answer is one JSON value of that schema
(`levers.feature.json_answer` reads it from model text)."""


def system_for(feature: FeatureSpec) -> str:
    """The fixed part of the system prompt, written from the workspace's feature: the planner's
    text as it has always been, another feature's name, contract and rubric in its place."""
    if feature.planner:
        return SYSTEM
    intro = FEATURE_INTRO.format(
        name=feature.name,
        description=" ".join(feature.description.split()),
        label=feature.input_label,
        schema=feature.schema_text(),
        count=len(feature.rubric),
        rubric=feature.rubric_text(),
    )
    body = SYSTEM.split("\n\n", 1)[1].replace("per-case plans", "per-case answers")
    return f"{intro}\n\n{body.replace('training-pool tasks', 'training-pool inputs')}"


class ClaudeResearcher:
    """Claude as a tool-using researcher; `bind` gives it the workspace's research kit."""

    def __init__(
        self,
        spec: str = "anthropic:claude-sonnet-4-6",
        model: MessagesClient | None = None,
        max_rounds: int | None = None,
    ):
        self.name = spec
        self.model = model or get_model(spec)  # type: ignore[assignment]
        self.max_rounds = max_rounds
        self.kit: ResearchKit | None = None
        self.transcript: list[str] = []  # the last turn's tool calls, a line each

    def bind(self, kit: ResearchKit) -> None:
        self.kit = kit

    def system(self, log: LogView) -> str:
        catalogue = json.dumps(log.levers, indent=1, default=str)
        return (
            f"{system_for(log.feature)}\n\n"
            f"## Built-in levers and their params (JSON schema)\n{catalogue}"
            f"\n\n## The plugin API (levers/hookspecs.py)\n{_hookspec_text()}"
        )

    def propose(self, log: LogView, notes: list[str]) -> Proposal:
        if self.kit is None:
            raise ProposalFailed("the Claude researcher needs the workspace's tools (bind)")
        if not hasattr(self.model, "create"):
            raise ProposalFailed(f"{self.name} cannot use tools; use anthropic:<model>")
        seal = self.kit.tools.holdout.seal  # everything that leaves for Claude passes the seal
        context = ResearchContext(
            model=self.model,
            tools=self.kit.tools,
            system=seal(self.system(log)),
            max_rounds=self.max_rounds or self.kit.max_rounds,
            over_budget=self.kit.over_budget,
        )
        start = {"messages": [{"role": "user", "content": seal(opening(log, notes))}], "rounds": 0}
        final = RESEARCH_GRAPH.invoke(start, context=context)
        self.transcript = list(final.get("transcript") or [])
        cost = float(final.get("cost_usd") or 0.0)
        if not final.get("proposal"):
            raise ProposalFailed(final.get("stop") or "the turn ended without a submission", cost)
        return Proposal.model_validate({**final["proposal"], "research_cost_usd": cost})

    def repair(self, proposal: Proposal, report: str) -> Proposal | None:
        return None  # repair happens in the research conversation (write_lever's report)


def opening(log: LogView, notes: list[str]) -> str:
    """The turn's first user message: the state of the run in brief, notes and feedback."""
    parts = [
        f"## Current best: {log.best_id} (quality {log.best_quality})\n"
        f"{json.dumps(log.best_agent, indent=1)}",
        f"## Experiments so far: {len(log.experiments)}; "
        f"since the last kept one: {log.since_last_kept}",
        f"## Training: trainable_here={log.trainable_here}"
        + (f" ({log.trainable_reason})" if log.trainable_reason else ""),
        f"## Trained adapters available\n{json.dumps(log.adapters, indent=1, default=str)}",
        "## Supervisor notes (verbatim)\n" + ("\n".join(f"- {n}" for n in notes) or "(none)"),
    ]
    if log.feedback:
        parts.append("## Your last submission was sent back\n" + "\n".join(log.feedback))
    parts.append("Research with the tools, then submit the next experiment.")
    return "\n\n".join(parts)


__all__ = ["SYSTEM", "ClaudeResearcher", "opening", "system_for"]
