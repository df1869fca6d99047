"""Researchers: who proposes the next experiment (offline heuristic search, or Claude)."""

from __future__ import annotations

import os

from models import AutoresearchError
from orchestrator.researchers.base import Proposal, Researcher, TrainingRequest


def make_researcher(spec: str = "auto") -> Researcher:
    """`heuristic`, `anthropic:<model>` (Claude), or `auto` (Claude when a key is set)."""
    if spec == "auto":
        spec = "anthropic:claude-sonnet-4-6" if os.environ.get("ANTHROPIC_API_KEY") else "heuristic"
    if spec == "heuristic":
        from orchestrator.researchers.heuristic import HeuristicResearcher

        return HeuristicResearcher()
    if spec.startswith(("anthropic:", "fake:")):
        from orchestrator.researchers.claude import ClaudeResearcher

        return ClaudeResearcher(spec)
    raise AutoresearchError(
        f"unknown researcher {spec!r}; use heuristic, auto, or anthropic:<model> "
        "(e.g. anthropic:claude-sonnet-4-6)"
    )


__all__ = ["Proposal", "Researcher", "TrainingRequest", "make_researcher"]
