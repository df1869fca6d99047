"""Researchers: who proposes the next experiment (offline heuristic search, or Claude)."""

from __future__ import annotations

import os
from pathlib import Path

from models import AutoresearchError
from orchestrator.researchers.base import Proposal, Researcher, TrainingRequest


def make_researcher(spec: str = "auto", workspace: Path | str | None = None) -> Researcher:
    """`heuristic`, `optuna`, `random`, `anthropic:<model>` (Claude), or `auto` (Claude when a
    key is set). `optuna` keeps its study in `workspace`."""
    if spec in ("optuna", "random"):
        return _search_researcher(spec, workspace)
    if spec == "auto":
        spec = "anthropic:claude-sonnet-4-6" if os.environ.get("ANTHROPIC_API_KEY") else "heuristic"
    if spec == "heuristic":
        from orchestrator.researchers.heuristic import HeuristicResearcher

        return HeuristicResearcher()
    if spec.startswith(("anthropic:", "fake:")):
        from orchestrator.researchers.claude import ClaudeResearcher

        return ClaudeResearcher(spec)
    raise AutoresearchError(
        f"unknown researcher {spec!r}; use heuristic, optuna, random, auto, or anthropic:<model> "
        "(e.g. anthropic:claude-sonnet-4-6)"
    )


def _search_researcher(spec: str, workspace: Path | str | None) -> Researcher:
    if spec == "random":
        from orchestrator.researchers.random_search import RandomResearcher

        return RandomResearcher()
    if workspace is None:
        raise AutoresearchError("the optuna researcher needs a workspace to keep its study in")
    from orchestrator.researchers.optuna import OptunaResearcher

    return OptunaResearcher(workspace)


__all__ = ["Proposal", "Researcher", "TrainingRequest", "make_researcher"]
