"""Adapter lever: attach a LoRA adapter from the workspace store (`.autoresearch/adapters/`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from levers.adapters import resolve_adapter
from levers.hookspecs import hookimpl
from levers.lever import Lever


class AdapterParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    adapter: str = Field("", description="sha256 of a stored adapter, or a unique prefix of one")


class AdapterLever(Lever):
    """Run every call of the agent with a stored LoRA adapter (SFT or ORPO) attached."""

    name = "adapter"
    lever_class = "adapter"
    Params = AdapterParams

    def check(self, workspace: Path | None) -> None:
        self.path = resolve_adapter(workspace or Path.cwd(), self.params.adapter)

    @hookimpl
    def prepare(self, ctx) -> None:
        path = getattr(self, "path", None) or resolve_adapter(
            ctx.workspace or Path.cwd(), self.params.adapter
        )
        ctx.options = ctx.options.model_copy(update={"adapter": str(path)})


@hookimpl
def register_levers(register):
    register(AdapterLever)
