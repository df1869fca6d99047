"""A feature's Python hooks (`FeatureHooks`), collected from the `register_feature_hooks` plugins.

See ruler/hookspecs.py for the API. The hooks are looked up by feature name when a judge is
made (`hooks_for`) and when model text is read into an answer (`plugin_parse`, from
ruler.contract). Lever files of a workspace (`workspace:*` plugins) are never asked: the code
the researcher writes must not change how its answers are judged. A plugin that fails is a
clear error naming it, never a silent fallback: a check that does not run would change scores.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from models.base import AutoresearchError
from models.plugins import ensure_plugins, plugin_source, pm
from ruler import hookspecs

pm.add_hookspecs(hookspecs)

Check = Callable[[Any, Any], tuple[float, str]]  # (answer, case) -> (score 1-5, reason)
RENDER_LIMIT = 100


class FeaturePluginError(AutoresearchError):
    """A feature plugin that registers something wrong, or whose hook fails."""


@dataclass(frozen=True)
class FeatureHooks:
    """What one plugin adds to one feature (every part optional; see ruler/hookspecs.py)."""

    feature: str
    checks: Mapping[str, Check] = field(default_factory=dict)
    parse: Callable[[str], Any] | None = None
    render: Callable[[Any], str] | None = None
    version: str = "1"
    plugin: str = ""  # the registering plugin's name (set when collected)

    @property
    def tag(self) -> str:
        """What a judge id carries when these hooks score: the plugin and its version."""
        return f"{self.plugin}@{self.version}"


def feature_hooks(feature: str) -> FeatureHooks | None:
    """The hooks registered for `feature`, or None. Two plugins for one feature: an error."""
    ensure_plugins()
    found: FeatureHooks | None = None
    for impl in pm.hook.register_feature_hooks.get_hookimpls():
        if plugin_source(impl.plugin) == "workspace file":
            continue  # lever code never changes the judge
        name = pm.get_name(impl.plugin) or repr(impl.plugin)
        registered: list[Any] = []
        impl.function(register=registered.append)
        for hooks in registered:
            if not isinstance(hooks, FeatureHooks):
                raise FeaturePluginError(
                    f"plugin {name}: register_feature_hooks registered {type(hooks).__name__}; "
                    "register a ruler.plugins.FeatureHooks"
                )
            if hooks.feature != feature:
                continue
            if found is not None:
                raise FeaturePluginError(
                    f"feature {feature}: hooks from both {found.plugin} and {name}; keep one"
                )
            found = replace(hooks, plugin=name)
    return found


def hooks_for(feature) -> FeatureHooks | None:
    """A feature's hooks, their checks matched against its rubric (a `ruler.feature.Feature`)."""
    hooks = feature_hooks(feature.name)
    if hooks is None:
        return None
    unknown = sorted(set(hooks.checks) - set(feature.dimension_names))
    if unknown:
        raise FeaturePluginError(
            f"plugin {hooks.plugin}: a check for {unknown[0]!r}, which feature {feature.name} "
            f"has no rubric dimension of; its dimensions: {', '.join(feature.dimension_names)}"
        )
    return hooks


def run_check(hooks: FeatureHooks, dimension: str, answer: Any, case: Any) -> tuple[float, str]:
    """The plugin's (score, reason) for one dimension of one answer, checked: a number in
    [1, 5] and a string."""
    where = f"plugin {hooks.plugin}: check {hooks.feature}.{dimension} on case {case.id}"
    try:
        result = hooks.checks[dimension](answer, case)
    except Exception as exc:
        raise FeaturePluginError(f"{where} raised {type(exc).__name__}: {exc}") from exc
    ok = isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], str)
    score = result[0] if ok else None
    if not isinstance(score, int | float) or not math.isfinite(score) or not 1 <= score <= 5:
        raise FeaturePluginError(f"{where} returned {result!r}; return (score from 1 to 5, reason)")
    return float(score), result[1]


def plugin_parse(feature: str, text: str) -> tuple[Any, str]:
    """(answer, '') from the feature's parser, (None, '') when it has none or finds nothing,
    (None, why) when it fails (the text is then not an answer: a failed case, not a crash)."""
    hooks = feature_hooks(feature)
    if hooks is None or hooks.parse is None:
        return None, ""
    try:
        return hooks.parse(text), ""
    except Exception as exc:
        return None, f"the parser of plugin {hooks.plugin} failed: {type(exc).__name__}: {exc}"


def render_answer(feature: str, answer: Any, limit: int = RENDER_LIMIT) -> str:
    """One short line for an answer: the feature's renderer, else its compact JSON (cut at
    `limit` characters either way)."""
    hooks = feature_hooks(feature)
    text = ""
    if hooks is not None and hooks.render is not None:
        try:
            text = str(hooks.render(answer))
        except Exception as exc:
            raise FeaturePluginError(
                f"plugin {hooks.plugin}: render for {feature} raised {type(exc).__name__}: {exc}"
            ) from exc
    text = " ".join((text or json.dumps(answer, ensure_ascii=False)).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


__all__ = [
    "FeatureHooks",
    "FeaturePluginError",
    "feature_hooks",
    "hooks_for",
    "plugin_parse",
    "render_answer",
    "run_check",
]
