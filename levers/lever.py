"""The base class every lever subclasses: a name, a lever class, a Params model, stage methods."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict

LeverClass = Literal["prompt", "rag", "multi_call", "self_critique", "decoding", "adapter", "other"]
LEVER_CLASSES: tuple[str, ...] = get_args(LeverClass)
# what an experiment record's class may be: a lever's, the baseline, or an adapter by its training
# (ORPO by its pairs, as the seed report's rows; plain ORPO where the pairs are not known)
ExperimentClass = Literal[
    "baseline",
    LeverClass,
    "adapter-sft",
    "adapter-orpo-style",
    "adapter-orpo-on-policy",
    "adapter-orpo",
]
EXPERIMENT_CLASSES: tuple[str, ...] = get_args(ExperimentClass)


class NoParams(BaseModel):
    """Params of a lever that takes none."""

    model_config = ConfigDict(extra="forbid")


class Lever:
    """One change to the on-device pipeline.

    Subclasses set `name`, `lever_class` and `Params`, and define any of the stage methods
    `prepare(self, ctx)`, `build_messages(self, ctx)`, `generate(self, ctx)`, `refine(self, ctx)`,
    `finalize(self, ctx)` (see `levers.hookspecs`), optionally marked `@hookimpl`. One instance
    serves every case of a run: keep per-case state on `ctx`.

    `features` names the features the lever serves (e.g. `("planner",)` for a lever that
    assumes seven questions); empty, it serves any feature and reads `ctx.feature`.
    """

    name: ClassVar[str] = ""
    lever_class: ClassVar[str] = "other"
    Params: ClassVar[type[BaseModel]] = NoParams
    features: ClassVar[tuple[str, ...]] = ()

    def __init__(self, params: BaseModel | None = None) -> None:
        self.params = params if params is not None else self.Params()

    def check(self, workspace: Path | None) -> None:
        """Called once before a run; raise an AutoresearchError to stop it with one line."""

    @classmethod
    def summary(cls) -> str:
        doc = (cls.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""
