"""What an experiment changed in the agent, in one line: the record's `method`.

`describe_change(parent, proposed, lever_file)` compares two agent configs (as dicts, the way
records and proposals carry them): the model, each decoding setting and each lever's parameters
`old → new`, levers enabled or removed, the lever order, and the lever module written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from levers.config import AgentConfig

NO_CHANGE = "no change to the agent"


def describe_change(
    parent: dict[str, Any], proposed: dict[str, Any], lever_file: str | None = None
) -> str:
    """`parent` → `proposed` as '; '-joined parts, or NO_CHANGE (plus the lever file written)."""
    parent, proposed = _normal(parent), _normal(proposed)
    parts = []
    if parent.get("model") != proposed.get("model"):
        parts.append(f"model: {_show(parent.get('model'))} → {_show(proposed.get('model'))}")
    parts += _changed("decoding.", parent.get("decoding") or {}, proposed.get("decoding") or {})
    parts += _lever_changes(_levers(parent), _levers(proposed))
    if lever_file:
        parts.append(f"wrote lever file agent/levers/{Path(lever_file).name}")
    return "; ".join(parts) or NO_CHANGE


def _normal(agent: dict[str, Any]) -> dict[str, Any]:
    """The agent with its defaults filled in, so that an unset default is no change."""
    try:
        return AgentConfig.model_validate(agent).model_dump(mode="json")
    except ValueError:
        return agent


def _levers(agent: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The enabled levers by name, in pipeline order, with their params."""
    return {
        spec["name"]: dict(spec.get("params") or {})
        for spec in agent.get("levers") or []
        if spec.get("enabled", True)
    }


def _lever_changes(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]) -> list[str]:
    parts = [
        f"enabled {name}" + (f" ({_params(params)})" if params else "")
        for name, params in new.items()
        if name not in old
    ]
    parts += [f"removed {name}" for name in old if name not in new]
    for name in (n for n in new if n in old):
        parts += _changed(f"{name}.", old[name], new[name])
    kept_old = [n for n in old if n in new]
    kept_new = [n for n in new if n in old]
    if kept_old != kept_new:
        parts.append(f"lever order: {', '.join(kept_old)} → {', '.join(kept_new)}")
    return parts


def _changed(prefix: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """`prefix+key: old → new` for every key whose value differs (absent shows as 'unset')."""
    return [
        f"{prefix}{key}: {_show(old.get(key, _UNSET))} → {_show(new.get(key, _UNSET))}"
        for key in sorted(set(old) | set(new))
        if old.get(key, _UNSET) != new.get(key, _UNSET)
    ]


def _params(params: dict[str, Any]) -> str:
    return ", ".join(f"{key}={_show(value)}" for key, value in params.items())


_UNSET = object()


def _show(value: Any) -> str:
    if value is _UNSET:
        return "unset"
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."
