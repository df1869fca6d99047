"""The model protocol every backend implements: messages in, a completion with its cost out."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field


class AutoresearchError(Exception):
    """A one-line, user-facing problem: what is wrong, where, and how to fix it.

    Every layer raises a subclass; the command line prints it as `error: ...` and exits 2.
    """


class ModelError(AutoresearchError):
    """A problem with a model spec, a backend or a model call."""


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Literal["system", "user", "assistant"]
    content: str


class Sampling(BaseModel):
    """How tokens are sampled: the settings an agent configures (agent.toml's `[decoding]`)."""

    model_config = ConfigDict(extra="forbid")

    temperature: float = Field(0.0, ge=0.0, le=2.0)
    max_tokens: int = Field(512, ge=1, le=8192)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    repetition_penalty: float | None = Field(None, gt=0.0, le=3.0)
    seed: int | None = None
    stop: list[str] = Field(default_factory=list)


class GenerationOptions(Sampling):
    """One call's settings; a backend ignores none silently (it errors on what it cannot do)."""

    json_schema: dict[str, Any] | None = None
    adapter: str | None = None


class Completion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str
    input_tokens: int = 0
    output_tokens: int = 0
    seconds: float = 0.0
    model_id: str
    cost_usd: float | None = None
    cached_input_tokens: int = 0


class ModelInfo(BaseModel):
    """What `autoresearch models list` shows for one model spec."""

    model_config = ConfigDict(extra="forbid")

    spec: str
    backend: str
    description: str
    available: bool
    reason: str = ""


@runtime_checkable
class ChatModel(Protocol):
    model_id: str

    def generate(self, messages: list[Message], options: GenerationOptions) -> Completion: ...

    def generate_batch(
        self, batch: list[list[Message]], options: GenerationOptions
    ) -> list[Completion]: ...


def messages_from(pairs: Iterable[tuple[str, str]]) -> list[Message]:
    """Build a message list from (role, content) pairs."""
    return [Message(role=role, content=content) for role, content in pairs]  # type: ignore[arg-type]


def apply_stop(text: str, stop: list[str]) -> str:
    """Cut text at the first stop sequence, as remote APIs do."""
    cut = len(text)
    for s in stop:
        i = text.find(s)
        if s and i != -1:
            cut = min(cut, i)
    return text[:cut]
