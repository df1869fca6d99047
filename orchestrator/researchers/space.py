"""The search space of agent configurations, derived from the registered levers' `Params`.

Nothing here lists levers or parameters by hand. Each lever class (prompt, rag, multi_call, …)
is one choice among its registered levers (or none); a chosen lever's parameters come from its
`Params` JSON schema: a bounded number is a float or int range, an enum (`Literal`) or a bool a
categorical, anything else (free text, unbounded ints such as seeds) keeps its default. The
agent's `[decoding]` table is searched the same way from the `Decoding` model, within
`DECODING_BOUNDS`. Levers that need something the space cannot give (required params, an
adapter, or only `Sampling` fields already covered by `[decoding]`) are left out.

A space is walked define-by-run through a `Suggest` (an Optuna trial or a random generator),
so a lever's parameters exist only in trials where that lever is on. `focus <class>` and
`avoid <class>` notes become a `Constraint` on the walk. Only the levers that serve the
workspace's feature are in its space (a lever's `features`; the planner's by default).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from pydantic import BaseModel

from levers.config import BASELINE_AGENT, Decoding
from levers.feature import PLANNER_NAME, fits
from models.base import Sampling

NONE = "none"
# sensible ranges for the agent's decoding; each is clipped to the schema's own bounds
DECODING_BOUNDS: dict[str, tuple[float, float]] = {
    "temperature": (0.0, 1.0),
    "top_p": (0.5, 1.0),
    "repetition_penalty": (1.0, 1.5),
    "max_tokens": (128, 512),
}
SKIPPED_CLASSES = frozenset({"adapter"})  # adapters come from the training track


class Suggest(Protocol):
    """What walks a space: Optuna's `Trial` has exactly these methods."""

    def suggest_float(self, name: str, low: float, high: float) -> float: ...
    def suggest_int(self, name: str, low: int, high: int) -> int: ...
    def suggest_categorical(self, name: str, choices: Any) -> Any: ...


@dataclass(frozen=True)
class Knob:
    """One searchable field: a float or int range, or a set of choices."""

    name: str  # the field's name in its Params
    kind: Literal["float", "int", "choice"]
    low: float = 0.0
    high: float = 0.0
    choices: tuple[Any, ...] = ()
    default: Any = None

    def suggest(self, suggest: Suggest, prefix: str) -> Any:
        key = f"{prefix}.{self.name}"
        if self.kind == "float":
            return suggest.suggest_float(key, self.low, self.high)
        if self.kind == "int":
            return suggest.suggest_int(key, int(self.low), int(self.high))
        return suggest.suggest_categorical(key, list(self.choices))


@dataclass(frozen=True)
class LeverSpace:
    name: str
    lever_class: str
    knobs: tuple[Knob, ...]


@dataclass(frozen=True)
class SearchSpace:
    """Lever classes in the order their levers were registered, and the decoding knobs."""

    classes: dict[str, tuple[LeverSpace, ...]]
    decoding: tuple[Knob, ...]

    def describe(self) -> str:
        parts = [
            f"{cls}: {NONE}|" + "|".join(f"{lv.name}({len(lv.knobs)})" for lv in levers)
            for cls, levers in self.classes.items()
        ]
        return "; ".join([*parts, f"[decoding]: {len(self.decoding)} knobs"])


@dataclass(frozen=True)
class Constraint:
    """What the notes allow: `keep` classes stay as in the base agent, `off` classes get none."""

    keep: frozenset[str] = field(default_factory=frozenset)
    off: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_preferences(
        cls, space: SearchSpace, focus: set[str], avoid: set[str], required: set[str]
    ) -> Constraint:
        every = {*space.classes, "decoding"}
        keep = (every - focus) if focus & every else set()
        off = set()
        for name in avoid & every:  # a required class or the decoding table stays as it is
            (keep if name in required or name == "decoding" else off).add(name)
        return cls(frozenset(keep - off), frozenset(off))


def _branch(prop: dict[str, Any]) -> dict[str, Any]:
    """An optional field's non-null branch (`X | None` is `anyOf: [X, null]`)."""
    branches = [b for b in prop.get("anyOf", [prop]) if b.get("type") != "null"]
    return branches[0] if len(branches) == 1 else {}


def knob(name: str, prop: dict[str, Any], bounds: tuple[float, float] | None = None) -> Knob | None:
    """The knob for one JSON-schema property, or None when it has no searchable range."""
    default = prop.get("default")
    prop = _branch(prop)
    if "enum" in prop:
        return Knob(name, "choice", choices=tuple(prop["enum"]), default=default)
    kind = prop.get("type")
    if kind == "boolean":
        return Knob(name, "choice", choices=(False, True), default=default)
    if kind not in ("integer", "number"):
        return None
    low = prop.get("minimum", prop.get("exclusiveMinimum"))
    high = prop.get("maximum", prop.get("exclusiveMaximum"))
    if low is None or high is None:
        return None
    step = 1 if kind == "integer" else (high - low) * 1e-3
    low += step if "minimum" not in prop else 0
    high -= step if "maximum" not in prop else 0
    if bounds:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    if low >= high:
        return None
    return Knob(name, "int" if kind == "integer" else "float", low=low, high=high, default=default)


def knobs(
    model: type[BaseModel], bounds: Mapping[str, tuple[float, float]] | None = None
) -> tuple[Knob, ...]:
    bounds = bounds or {}
    props = model.model_json_schema().get("properties", {})
    found = (knob(name, prop, bounds.get(name)) for name, prop in props.items())
    return tuple(k for k in found if k is not None)


def searchable(lever_class: str, params: type[BaseModel]) -> bool:
    """Whether a lever can be switched on from its defaults and adds more than `[decoding]`."""
    if lever_class in SKIPPED_CLASSES or params.model_json_schema().get("required"):
        return False
    fields = set(params.model_fields)
    return not (fields and fields <= set(Sampling.model_fields))


def derive_space(levers: Mapping[str, tuple[str, type[BaseModel]]]) -> SearchSpace:
    """The space over `levers` (name → (lever class, Params)), in their order."""
    classes: dict[str, list[LeverSpace]] = {}
    for name, (lever_class, params) in levers.items():
        if searchable(lever_class, params):
            classes.setdefault(lever_class, []).append(LeverSpace(name, lever_class, knobs(params)))
    return SearchSpace(
        {cls: tuple(found) for cls, found in classes.items()}, knobs(Decoding, DECODING_BOUNDS)
    )


def registered_space(feature: str = PLANNER_NAME) -> SearchSpace:
    """The space over every registered lever (built-ins and installed plugins) that serves
    `feature`."""
    from levers.registry import lever_classes

    return derive_space(
        {
            n: (i.lever_class, i.Params)
            for n, i in lever_classes().items()
            if fits(i.features, feature)
        }
    )


class SearchesLeverSpace:
    """A researcher over the registered levers' space for its feature, derived on first use
    (or given)."""

    _space: SearchSpace | None = None
    _feature: str = PLANNER_NAME

    def fit_feature(self, feature: str) -> None:
        """Search the levers of `feature` from now on (the log view says which it is)."""
        if feature != self._feature:
            self._feature, self._space = feature, None

    @property
    def space(self) -> SearchSpace:
        if self._space is None:
            self._space = registered_space(self._feature)
        return self._space


def lever_choice_name(lever_class: str, levers: tuple[LeverSpace, ...]) -> str:
    """The categorical's name: stable while the class's set of levers is (Optuna's categorical
    choices may not change under one name)."""
    digest = hashlib.sha1("|".join(lv.name for lv in levers).encode()).hexdigest()[:6]
    return f"{lever_class}@{digest}"


def required_classes(space: SearchSpace) -> set[str]:
    """Classes the stock agent has a lever of on (the prompt): never switched off. A property
    of the space, not of the best agent, so a class's choices never change between trials
    (Optuna's categoricals may not), though the best gains a lever of another class."""
    on = {s.name for s in BASELINE_AGENT.enabled_levers()}
    return {cls for cls, levers in space.classes.items() if on & {lv.name for lv in levers}}


def sample_agent(
    space: SearchSpace, suggest: Suggest, base: dict[str, Any], constraint: Constraint
) -> dict[str, Any]:
    """The agent patch one walk of the space gives, over the `base` (best) agent."""
    base_levers = [s for s in base.get("levers", []) if s.get("enabled", True)]
    required = required_classes(space)
    levers: list[dict[str, Any]] = []
    for cls, candidates in space.classes.items():
        names = {lv.name for lv in candidates}
        if cls in constraint.keep:
            levers += [dict(s) for s in base_levers if s["name"] in names]
            continue
        if cls in constraint.off:
            continue
        choices = [lv.name for lv in candidates] + ([] if cls in required else [NONE])
        chosen = suggest.suggest_categorical(lever_choice_name(cls, candidates), choices)
        lever = next((lv for lv in candidates if lv.name == chosen), None)
        if lever is not None:
            params = {k.name: k.suggest(suggest, lever.name) for k in lever.knobs}
            levers.append({"name": lever.name, "params": params})
    known = {lv.name for found in space.classes.values() for lv in found}
    levers += [dict(s) for s in base_levers if s["name"] not in known]  # adapters, workspace files
    patch: dict[str, Any] = {"levers": levers}
    if "decoding" not in constraint.keep | constraint.off:
        decoding = {k.name: k.suggest(suggest, "decoding") for k in space.decoding}
        if decoding.get("temperature", 0.0) > 0 and "seed" in Decoding.model_fields:
            decoding["seed"] = 0  # sampled decoding stays reproducible
        patch["decoding"] = decoding
    return patch
