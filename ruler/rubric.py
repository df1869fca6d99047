"""The rubric: five dimensions with anchored 1/3/5 descriptions, loaded from rubric.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from models.base import AutoresearchError
from ruler.records import DIMENSIONS, JudgeMode, dimensions_for


class RubricError(AutoresearchError):
    """A rubric file that cannot be read or lacks a dimension."""


class Dimension(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str
    question: str
    score_1: str
    score_3: str
    score_5: str


class Rubric(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dimensions: dict[str, Dimension]

    def render(self, mode: JudgeMode) -> str:
        """The rubric as judge-prompt text, limited to the dimensions of `mode`."""
        blocks = []
        for name in dimensions_for(mode, tuple(self.dimensions)):
            d = self.dimensions[name]
            blocks.append(
                f"- {name} ({d.title}): {d.question}\n"
                f"  1 = {d.score_1}\n  3 = {d.score_3}\n  5 = {d.score_5}\n"
                "  (2 and 4 fall between the anchors.)"
            )
        return "\n".join(blocks)


def load_rubric(path: Path) -> Rubric:
    try:
        rubric = Rubric.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        first = str(exc).splitlines()[0]
        raise RubricError(f"{path}: cannot load the rubric ({first})") from exc
    missing = [d for d in DIMENSIONS if d not in rubric.dimensions]
    if missing:
        raise RubricError(
            f"{path}: missing [dimensions.{missing[0]}]; it needs all of {DIMENSIONS}"
        )
    return rubric
