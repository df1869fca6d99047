"""Decoding lever: temperature, top_p, repetition penalty, max tokens and seed for every call."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from levers.hookspecs import hookimpl
from levers.lever import Lever


class DecodingParams(BaseModel):
    """Unset fields keep the agent's `[decoding]` values."""

    model_config = ConfigDict(extra="forbid")

    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    repetition_penalty: float | None = Field(None, gt=0.0, le=3.0)
    max_tokens: int | None = Field(None, ge=16, le=4096)
    seed: int | None = None


class DecodingLever(Lever):
    """Override decoding settings (sampling temperature, nucleus, repetition penalty, length)."""

    name = "decoding"
    lever_class = "decoding"
    Params = DecodingParams

    @hookimpl
    def prepare(self, ctx) -> None:
        update = self.params.model_dump(exclude_none=True)
        ctx.options = ctx.options.model_copy(update=update)


@hookimpl
def register_levers(register):
    register(DecodingLever)
