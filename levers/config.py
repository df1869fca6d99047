"""The agent definition (`agent/agent.toml`): a model, decoding, and an ordered list of levers.

```toml
model = "local:smollm2-135m"

[decoding]
temperature = 0.0
max_tokens = 300

[[levers]]
name = "prompt"
[levers.params]
instructions = "rubric"
```

Each lever's params are validated by that lever's own pydantic `Params`; an unknown lever or a
bad param is a one-line error naming the file, the lever and the field.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from models.base import AutoresearchError, GenerationOptions, Sampling
from models.files import atomic_write_text


class AgentConfigError(AutoresearchError):
    """An agent.toml that cannot be used as it is."""


class Decoding(Sampling):
    """The agent's base decoding settings (the `decoding` lever can override them): the model's
    sampling settings with a shorter default answer."""

    max_tokens: int = Field(300, ge=1, le=8192)

    def options(self) -> GenerationOptions:
        return GenerationOptions(**self.model_dump())


class LeverSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    enabled: bool = True
    params: dict[str, Any] = Field(default_factory=dict)


class AgentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = "local:smollm2-135m"
    description: str = ""
    decoding: Decoding = Field(default_factory=Decoding)
    levers: list[LeverSpec] = Field(default_factory=list)

    def enabled_levers(self) -> list[LeverSpec]:
        return [spec for spec in self.levers if spec.enabled]


BASELINE_AGENT = AgentConfig(
    model="local:smollm2-135m",
    description="baseline: one call with the stock prompt (the prompt lever at its defaults)",
    decoding=Decoding(temperature=0.0, max_tokens=220),
    levers=[LeverSpec(name="prompt", params={})],
)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or "(top level)"
    return f"{field}: {err['msg']}"


def validate_agent(config: AgentConfig, source: str = "agent") -> AgentConfig:
    """Check every lever exists and its params validate; return the config with full params."""
    from levers.registry import lever_classes

    known = lever_classes()
    levers = []
    for i, spec in enumerate(config.levers):
        if spec.name not in known:
            raise AgentConfigError(
                f"{source}: levers[{i}] {spec.name!r} is not an installed lever; "
                f"known: {', '.join(sorted(known))} (see: autoresearch levers)"
            )
        try:
            params = known[spec.name].Params.model_validate(spec.params)
        except ValidationError as exc:
            raise AgentConfigError(
                f"{source}: lever {spec.name!r} (levers[{i}]) param {_first_error(exc)}"
            ) from None
        levers.append(spec.model_copy(update={"params": params.model_dump(exclude_defaults=True)}))
    return config.model_copy(update={"levers": levers})


def read_agent(path: str | Path) -> AgentConfig:
    """Parse an agent.toml without importing any lever (its params are checked by `load_agent`,
    or by the lever pipeline's own process, `levers.worker`)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise AgentConfigError(f"{path}: no such agent file") from None
    except tomllib.TOMLDecodeError as exc:
        raise AgentConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        config = AgentConfig.model_validate(data)
    except ValidationError as exc:
        raise AgentConfigError(f"{path}: {_first_error(exc)}") from None
    return config


def load_agent(path: str | Path) -> AgentConfig:
    """Read, check and return an agent.toml; its sibling `levers/` folder is loaded first."""
    from levers.registry import load_lever_files

    path = Path(path)
    config = read_agent(path)
    if (path.parent / "levers").is_dir():
        load_lever_files(path.parent / "levers")
    return validate_agent(config, str(path))


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{json.dumps(str(k))} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    raise AgentConfigError(f"cannot write {value!r} ({type(value).__name__}) to agent.toml")


def _table(values: dict[str, Any]) -> list[str]:
    return [f"{k} = {_toml_value(v)}" for k, v in values.items() if v is not None]


def dump_agent(config: AgentConfig) -> str:
    """The TOML text of an agent (what `load_agent` reads back)."""
    lines = [f"model = {_toml_value(config.model)}"]
    if config.description:
        lines.append(f"description = {_toml_value(config.description)}")
    lines += ["", "[decoding]", *_table(config.decoding.model_dump(exclude_none=True))]
    for spec in config.levers:
        lines += ["", "[[levers]]", f"name = {_toml_value(spec.name)}"]
        if not spec.enabled:
            lines.append("enabled = false")
        if spec.params:
            lines += ["[levers.params]", *_table(spec.params)]
    return "\n".join(lines) + "\n"


def write_agent(config: AgentConfig, path: str | Path) -> None:
    """Write agent.toml atomically."""
    atomic_write_text(Path(path), dump_agent(config))
