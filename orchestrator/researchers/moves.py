"""The heuristic's vocabulary of moves: one change to an agent configuration (a lever enabled or
its params set, the prompt rephrased), a configuration's identity, and the checks a proposed
configuration must pass (it serves the feature, it validates, which levers a move touches)."""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from levers.config import AgentConfig, validate_agent
from levers.feature import FeatureSpec, fits
from models import AutoresearchError
from orchestrator.researchers.base import ExperimentSummary, LogView


@dataclass(frozen=True)
class Move:
    lever_class: str
    hypothesis: str
    apply: Callable[[dict[str, Any]], dict[str, Any]]
    lever_code: str | None = None
    lever_filename: str | None = None
    gain: float = 0.01  # prior expected Δ on the keep gate (measured single moves; else small)
    cost: float = 1.0  # prior factor on the seconds per case of the agent it is applied to


def canonical(agent: dict[str, Any]) -> str:
    """A configuration's identity for 'never repeat a config': validated, defaults filled in,
    description aside (a recorded agent and a proposed patch compare equal when they run alike).
    """
    with contextlib.suppress(AutoresearchError, ValueError):  # else compared as written
        agent = validate_agent(AgentConfig.model_validate(agent)).model_dump(mode="json")
    return json.dumps({k: v for k, v in agent.items() if k != "description"}, sort_keys=True)


def _levers(agent: dict[str, Any]) -> list[dict[str, Any]]:
    return agent.setdefault("levers", [])


def _prompt_spec(agent: dict[str, Any]) -> dict[str, Any]:
    for spec in _levers(agent):
        if spec["name"] == "prompt" or spec["name"].startswith("prompt_"):
            return spec
    spec = {"name": "prompt", "params": {}}
    _levers(agent).insert(0, spec)
    return spec


def set_prompt(**params: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def apply(agent: dict[str, Any]) -> dict[str, Any]:
        spec = _prompt_spec(agent)
        spec["params"] = {**spec.get("params", {}), **params}
        return agent

    return apply


def use_phrasing(lever_name: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def apply(agent: dict[str, Any]) -> dict[str, Any]:
        _prompt_spec(agent)["name"] = lever_name
        return agent

    return apply


def enable(name: str, **params: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Enable lever `name` with params (replacing its params if it is already on)."""

    def apply(agent: dict[str, Any]) -> dict[str, Any]:
        for spec in _levers(agent):
            if spec["name"] == name:
                spec["params"], spec["enabled"] = dict(params), True
                return agent
        _levers(agent).append({"name": name, "params": dict(params)})
        return agent

    return apply


def serves(agent: dict[str, Any], feature: FeatureSpec) -> bool:
    """Whether every lever the agent enables is made for `feature` (unknown names pass: the
    graph's validation names them)."""
    from levers.registry import lever_classes

    known = lever_classes()
    return all(
        fits(known[spec["name"]].features, feature)
        for spec in agent.get("levers", [])
        if spec.get("enabled", True) and spec["name"] in known
    )


def same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return canonical(a) == canonical(b)


def lineage(
    log: LogView, moves: list[Move]
) -> Iterator[tuple[ExperimentSummary, Move, ExperimentSummary]]:
    """(experiment, the move that made it from the best of its time, that best) for every
    experiment of the log that is one of `moves` applied to the best before it."""
    parent: ExperimentSummary | None = None
    for exp in log.experiments:
        if parent is not None and exp.agent:
            base = parent.agent
            move = next((m for m in moves if same(m.apply(copy.deepcopy(base)), exp.agent)), None)
            if move is not None:
                yield exp, move, parent
        if exp.status == "kept" and exp.agent:
            parent = exp


def touches(move: Move, agent: dict[str, Any]) -> set[str]:
    """The levers `move` changes on `agent` (by name; the prompt lever and its phrasings are
    one)."""
    before = {_slot(s["name"]): s for s in agent.get("levers", [])}
    after = {_slot(s["name"]): s for s in move.apply(copy.deepcopy(agent)).get("levers", [])}
    return {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}


def _slot(name: str) -> str:
    return "prompt" if name.startswith("prompt") else name


def valid(agent: dict[str, Any]) -> bool:
    """Whether the agent's configuration validates (a stack may combine levers that clash)."""
    try:
        validate_agent(AgentConfig.model_validate(agent))
    except (AutoresearchError, ValueError):
        return False
    return True
