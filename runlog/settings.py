"""`autoresearch.toml`: a workspace's settings, how to find a workspace, and its error type."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from models.base import AutoresearchError
from models.files import STATE_DIR
from ruler.keep_policy import FUTILITY, RECOMMENDED_SCREEN, Futility, ScreenRule
from ruler.records import JudgeMode

CONFIG_NAME = "autoresearch.toml"
DEFAULT_CANDIDATE = "local:smollm2-135m"
TEMP_PATTERN = ".*.tmp"  # models.files.atomic_write_text's temporaries: `.<name>.<random>.tmp`
GITIGNORE = f"{STATE_DIR}/\n__pycache__/\n*.pyc\nrunlog/dashboard.html\n{TEMP_PATTERN}\n"


class WorkspaceError(AutoresearchError):
    """A folder that is not (or cannot become) a workspace, or a git state we cannot use."""


class CandidateSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = DEFAULT_CANDIDATE


class JudgeSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    spec: str = "embedding"
    mode: JudgeMode = "standard"


class ResearcherSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    spec: str = "auto"  # "auto": Claude when ANTHROPIC_API_KEY is set, else the heuristic one
    max_tool_rounds: int = Field(12, ge=1, description="tool rounds per research turn (Claude)")


class RulerSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "planner"
    lock_hash: str


class BudgetSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_experiments: int | None = Field(20, ge=1)
    max_hours: float | None = Field(None, gt=0)
    max_usd: float | None = Field(None, ge=0)


class KeepSection(BaseModel):
    """When an experiment becomes the new best (the loop applies it; recorded here)."""

    model_config = ConfigDict(extra="forbid")

    gate: str = "dev-10"
    confirm_gate: str | None = Field(
        "full-30", description='the decisive gate run when the keep gate is promising; "" for none'
    )
    policy: Literal["interval", "mean"] = "interval"
    min_delta: float = 0.0
    screen: Literal["interval", "permutation", "bootstrap"] = Field(
        RECOMMENDED_SCREEN.kind,
        description='when the keep gate is promising: "interval" (its 95% interval of the gain '
        'reaches above zero; the rule before issue 16), "permutation" (mean gain > 0 and a '
        'one-sided paired test p < screen_alpha), "bootstrap" (mean > 0, P(gain) >= screen_tau)',
    )
    screen_alpha: float = Field(RECOMMENDED_SCREEN.alpha, gt=0, le=1)
    screen_tau: float = Field(RECOMMENDED_SCREEN.tau, ge=0, le=1)
    futility: float = Field(
        FUTILITY,
        ge=0,
        lt=1,
        description="stop the confirm gate halfway when the chance of a keep once every case "
        "is in has fallen below this (the experiment is discarded); 0 runs every case",
    )
    recheck_every: int = Field(
        3,
        ge=0,
        description="re-measure the best with a fresh seed every N kept experiments when the "
        "agent samples or the judge is stochastic (winner's curse); 0 for never",
    )

    def screen_rule(self) -> ScreenRule:
        return ScreenRule(kind=self.screen, alpha=self.screen_alpha, tau=self.screen_tau)

    def futility_for(self, best: dict[str, float] | None) -> Futility | None:
        """The confirm gate's early stop against the best's per-case quality on it (None:
        switched off, or no best to compare with)."""
        if not self.futility or not best:
            return None
        return Futility(
            best=best, threshold=self.futility, policy=self.policy, min_delta=self.min_delta
        )


class CacheSection(BaseModel):
    """Whether evaluations reuse candidate outputs (`eval --no-cache` bypasses it once)."""

    model_config = ConfigDict(extra="forbid")

    outputs: bool = True


class WorkspaceConfig(BaseModel):
    """`autoresearch.toml`."""

    model_config = ConfigDict(extra="forbid")

    candidate: CandidateSection = Field(default_factory=CandidateSection)
    judge: JudgeSection = Field(default_factory=JudgeSection)
    researcher: ResearcherSection = Field(default_factory=ResearcherSection)
    ruler: RulerSection
    budget: BudgetSection = Field(default_factory=BudgetSection)
    keep: KeepSection = Field(default_factory=KeepSection)
    cache: CacheSection = Field(default_factory=CacheSection)


def dump_config(config: WorkspaceConfig) -> str:
    """TOML text: one table per section, scalars only (None values are left out)."""
    lines = ["# autoresearch workspace settings (see `autoresearch status`)"]
    for section, values in config.model_dump().items():
        lines += ["", f"[{section}]"]
        for key, value in values.items():
            if value is None:
                continue
            text = json.dumps(value) if not isinstance(value, bool) else str(value).lower()
            lines.append(f"{key} = {text}")
    return "\n".join(lines) + "\n"


def load_config(path: Path) -> WorkspaceConfig:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WorkspaceError(f"{path}: missing; is this an autoresearch workspace?") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise WorkspaceError(f"{path}: not valid TOML ({exc})") from None
    try:
        return WorkspaceConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise WorkspaceError(f"{path}: {where}: {err['msg']}") from None


def find_root(start: Path) -> Path:
    """The nearest folder at or above `start` holding `autoresearch.toml`."""
    start = Path(start).resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise WorkspaceError(f"{start}: not inside an autoresearch workspace (run `autoresearch init`)")
