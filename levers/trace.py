"""Trace nodes: one per model call or Python step; the trace is a run's process diagram and cost."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

NodeKind = Literal["inference", "adapter_inference", "python_step", "adapter_training"]
AdapterKind = Literal["sft", "orpo"]
STAGES: tuple[str, ...] = ("prepare", "build_messages", "generate", "refine", "finalize")


class TraceNode(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: NodeKind
    label: str
    stage: str = ""
    model_id: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    seconds: float = 0.0
    cost_usd: float = 0.0
    adapter_kind: AdapterKind | None = None


def trace_totals(trace: list[TraceNode]) -> dict[str, float]:
    """Calls, tokens and seconds summed over a trace."""
    calls = [n for n in trace if n.kind in ("inference", "adapter_inference")]
    return {
        "calls": len(calls),
        "input_tokens": sum(n.input_tokens for n in trace),
        "output_tokens": sum(n.output_tokens for n in trace),
        "seconds": round(sum(n.seconds for n in trace), 3),
    }
