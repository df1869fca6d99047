"""The research turn as a LangGraph subgraph: think → tools → think … until `submit`.

`think` is one Messages API call with the tool definitions (Claude may ask for several tools at
once); `tools` runs every requested tool and answers with `tool_result` blocks. Each node is a
checkpointed step: compiled without a checkpointer of its own, the subgraph shares the parent
graph's when invoked from its `propose` node, so a loop killed mid-research resumes at the step
it was in and never re-sends a call it already paid for.

The turn ends on an accepted `submit`, after `max_rounds` tool rounds, or when the run's budget
(checked between rounds, this turn's cost included) is spent. The fixed system prompt and the
tool definitions carry `cache_control` (prompt caching).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime

from orchestrator.researchers.claude.tool_specs import TOOL_SPECS
from orchestrator.researchers.claude.tools import ResearchTools

MAX_TOKENS = 8192
LAST_ROUND = "This is your last tool round: call `submit` now."
NO_TOOL = "Use the tools; the turn ends only with a `submit` call."


class MessagesClient(Protocol):
    """What the subgraph needs of a model: a raw Messages call and the price of its usage."""

    name: str

    def create(self, **kwargs: Any) -> Any: ...
    def cost(self, usage: Any) -> float: ...


class ResearchState(TypedDict, total=False):
    messages: list[dict[str, Any]]  # the conversation after the system prompt
    rounds: int  # tool rounds done
    cost_usd: float  # this turn's model calls and trials
    proposal: dict[str, Any] | None  # the accepted submission (a Proposal as a dict)
    stop: str  # why the turn ended without a submission
    transcript: list[str]  # a line per tool call, for logs and reports


@dataclass(frozen=True)
class ResearchContext:
    model: MessagesClient
    tools: ResearchTools
    system: str
    max_rounds: int = 12
    over_budget: Callable[[float], str] = lambda cost: ""  # why to stop, given the turn's cost


def request(ctx: ResearchContext, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The Messages call's arguments: cached system prompt and tools, then the conversation."""
    tools = [dict(spec) for spec in TOOL_SPECS]
    tools[-1]["cache_control"] = {"type": "ephemeral"}
    return {
        "model": ctx.model.name,
        "max_tokens": MAX_TOKENS,
        "system": [{"type": "text", "text": ctx.system, "cache_control": {"type": "ephemeral"}}],
        "tools": tools,
        "messages": messages,
    }


def _block(block: Any) -> dict[str, Any]:
    """A response content block as a request block (only the fields the API takes back)."""
    if block.type == "text":
        return {"type": "text", "text": block.text}
    if block.type == "tool_use":
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    return block.model_dump(mode="json", exclude_none=True)


def think(state: ResearchState, runtime: Runtime[ResearchContext]) -> dict[str, Any]:
    """One Messages call, unless the turn's rounds or the run's budget are spent."""
    ctx = runtime.context
    cost = state.get("cost_usd", 0.0)
    if why := ctx.over_budget(cost):
        return {"stop": f"research stopped: {why}"}
    if state.get("rounds", 0) >= ctx.max_rounds:
        return {"stop": f"no submission within {ctx.max_rounds} tool rounds"}
    response = ctx.model.create(**request(ctx, state["messages"]))
    content = [_block(b) for b in response.content]
    return {
        "messages": [*state["messages"], {"role": "assistant", "content": content}],
        "cost_usd": cost + ctx.model.cost(response.usage),
    }


def tools(state: ResearchState, runtime: Runtime[ResearchContext]) -> dict[str, Any]:
    """Run every tool the last message asked for; the results go back as one user message."""
    ctx = runtime.context
    calls = [b for b in state["messages"][-1]["content"] if b.get("type") == "tool_use"]
    results: list[dict[str, Any]] = []
    transcript = list(state.get("transcript") or [])
    cost, proposal = state.get("cost_usd", 0.0), None
    for call in calls:
        answer = ctx.tools.call(call["name"], call.get("input") or {})
        cost += answer.cost_usd
        proposal = answer.proposal.model_dump() if answer.proposal else proposal
        results.append({"type": "tool_result", "tool_use_id": call["id"], "content": answer.text})
        first = answer.text.strip().splitlines()[0] if answer.text.strip() else ""
        transcript.append(f"{call['name']}: {first[:120]}")
    rounds = state.get("rounds", 0) + 1
    if not calls:
        results.append({"type": "text", "text": NO_TOOL})
    elif proposal is None and rounds == ctx.max_rounds - 1:
        results.append({"type": "text", "text": LAST_ROUND})
    return {
        "messages": [*state["messages"], {"role": "user", "content": results}],
        "rounds": rounds,
        "cost_usd": cost,
        "proposal": proposal,
        "transcript": transcript,
    }


def after_think(state: ResearchState) -> Literal["tools", "__end__"]:
    return END if state.get("stop") else "tools"


def after_tools(state: ResearchState) -> Literal["think", "__end__"]:
    return END if state.get("proposal") else "think"


def build_research_graph() -> CompiledStateGraph:
    """The subgraph; no checkpointer of its own (it shares the calling graph's)."""
    graph = StateGraph(ResearchState, context_schema=ResearchContext)
    graph.add_node("think", think)
    graph.add_node("tools", tools)
    graph.add_edge(START, "think")
    graph.add_conditional_edges("think", after_think)
    graph.add_conditional_edges("tools", after_tools)
    return graph.compile()


RESEARCH_GRAPH = build_research_graph()
