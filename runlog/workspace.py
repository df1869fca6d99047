"""The workspace: a git repository holding the agent, the run log and `autoresearch.toml`.

`Workspace.init(dir)` creates one; `Workspace.open(dir)` finds one (from any folder inside it,
git worktrees included) and repairs an experiment left half-recorded by a crash. Reading the
run log lives here; writing experiments to git lives in `runlog.gitstore`.
"""

from __future__ import annotations

import json
import time
import tomllib
from pathlib import Path
from typing import Any, Literal

from git import InvalidGitRepositoryError, NoSuchPathError, Repo
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from models.base import AutoresearchError
from ruler.records import JudgeMode
from runlog.files import atomic_write_text
from runlog.jsonl import append_jsonl, read_jsonl
from runlog.records import Event, ExperimentRecord, OutputRow, ReferenceRecord, experiment_id

CONFIG_NAME = "autoresearch.toml"
STATE_DIR = ".autoresearch"
DEFAULT_CANDIDATE = "local:smollm2-135m"
TEMP_PATTERN = ".*.tmp"  # runlog.files.atomic_write_text's temporaries: `.<name>.<random>.tmp`
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


class WorkspaceConfig(BaseModel):
    """`autoresearch.toml`."""

    model_config = ConfigDict(extra="forbid")

    candidate: CandidateSection = Field(default_factory=CandidateSection)
    judge: JudgeSection = Field(default_factory=JudgeSection)
    researcher: ResearcherSection = Field(default_factory=ResearcherSection)
    ruler: RulerSection
    budget: BudgetSection = Field(default_factory=BudgetSection)
    keep: KeepSection = Field(default_factory=KeepSection)


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


class Workspace:
    """One workspace folder (the main checkout or a git worktree of it)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.config = load_config(self.root / CONFIG_NAME)
        self.main_root = self._main_root()

    # --- opening and creating -------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path = ".", *, repair: bool = True) -> Workspace:
        """Open the workspace containing `path`; finish any experiment a crash left uncommitted."""
        ws = cls(find_root(Path(path)))
        if repair and ws.is_main_checkout():
            sweep_temporaries(ws)
            from runlog.gitstore import repair as repair_store

            repair_store(ws)
        return ws

    @classmethod
    def init(
        cls,
        path: str | Path,
        *,
        model: str | None = None,
        judge: str | None = None,
        researcher: str | None = None,
        ruler: str = "planner",
    ) -> Workspace:
        """Create a workspace (see `runlog.gitstore.init_workspace`)."""
        from runlog.gitstore import init_workspace

        return init_workspace(
            Path(path), model=model, judge=judge, researcher=researcher, ruler=ruler
        )

    def _main_root(self) -> Path:
        """The main checkout's folder (differs from `root` inside a git worktree)."""
        with self.repo() as repo:
            common = Path(repo.git.rev_parse("--path-format=absolute", "--git-common-dir"))
        return common.parent if common.name == ".git" else self.root

    def repo(self) -> Repo:
        try:
            return Repo(self.root)
        except (InvalidGitRepositoryError, NoSuchPathError):
            raise WorkspaceError(f"{self.root}: not a git repository") from None

    def is_main_checkout(self) -> bool:
        return self.main_root == self.root

    # --- paths ------------------------------------------------------------------------------

    @property
    def agent_dir(self) -> Path:
        return self.root / "agent"

    @property
    def agent_path(self) -> Path:
        return self.agent_dir / "agent.toml"

    @property
    def runlog_dir(self) -> Path:
        return self.root / "runlog"

    @property
    def experiments_dir(self) -> Path:
        return self.runlog_dir / "experiments"

    @property
    def outputs_dir(self) -> Path:
        return self.runlog_dir / "outputs"

    @property
    def reference_dir(self) -> Path:
        return self.runlog_dir / "reference"

    @property
    def results_path(self) -> Path:
        return self.runlog_dir / "results.tsv"

    @property
    def events_path(self) -> Path:
        return self.runlog_dir / "events.jsonl"

    @property
    def dashboard_path(self) -> Path:
        return self.runlog_dir / "dashboard.html"

    @property
    def state_dir(self) -> Path:
        """`.autoresearch/` of the main checkout (shared by worktrees, so caches are too)."""
        path = self.main_root / STATE_DIR
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def cache_dir(self) -> Path:
        path = self.state_dir / "cache"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def record_path(self, exp: str) -> Path:
        return self.experiments_dir / f"{experiment_id(exp)}.json"

    def outputs_path(self, exp: str) -> Path:
        return self.outputs_dir / f"{experiment_id(exp)}.jsonl"

    # --- reading the run log ------------------------------------------------------------------

    def record_ids(self) -> list[str]:
        if not self.experiments_dir.is_dir():
            return []
        ids = [p.stem for p in self.experiments_dir.glob("*.json") if p.stem.isdigit()]
        return sorted(ids, key=int)

    def record(self, exp: str) -> ExperimentRecord:
        path = self.record_path(exp)
        try:
            return ExperimentRecord.model_validate_json(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise WorkspaceError(f"no experiment {experiment_id(exp)} ({path} missing)") from None
        except ValidationError as exc:
            raise WorkspaceError(
                f"{path}: not a valid experiment record ({exc.errors()[0]['msg']})"
            ) from None
        except UnicodeDecodeError:
            raise WorkspaceError(f"{path}: not a valid experiment record (not UTF-8)") from None

    def records(self) -> list[ExperimentRecord]:
        """Every experiment so far, in id order (the append-only run log)."""
        return [self.record(i) for i in self.record_ids()]

    def outputs(self, exp: str) -> list[OutputRow]:
        """Its per-case rows; an unreadable line is skipped with a warning."""
        return read_jsonl(self.outputs_path(exp), OutputRow.model_validate_json)

    def events(self, kind: str | None = None) -> list[Event]:
        """Every event so far; a torn line (a crash mid-append) is skipped with a warning."""
        events = read_jsonl(self.events_path, Event.model_validate_json)
        return [e for e in events if kind is None or e.kind == kind]

    def append_event(self, kind: str, payload: dict[str, Any] | None = None) -> Event:
        """Append one event to `runlog/events.jsonl` (a single atomic append)."""
        event = Event(kind=kind, payload=payload or {})  # type: ignore[arg-type]
        append_jsonl(self.events_path, event.model_dump_json())
        return event

    def references(self) -> list[ReferenceRecord]:
        if not self.reference_dir.is_dir():
            return []
        paths = sorted(self.reference_dir.glob("*.json"))
        return [ReferenceRecord.model_validate_json(p.read_text(encoding="utf-8")) for p in paths]

    def write_reference(self, record: ReferenceRecord) -> Path:
        path = self.reference_dir / f"{record.id}.json"
        atomic_write_text(path, record.model_dump_json(indent=2) + "\n")
        return path

    # --- writing experiments (delegates to runlog.gitstore) ------------------------------------

    def next_experiment_id(self) -> str:
        from runlog.gitstore import next_experiment_id

        return next_experiment_id(self)

    def current_best(self):  # -> runlog.gitstore.Best | None
        from runlog.gitstore import current_best

        return current_best(self)

    def commit_experiment(self, record: ExperimentRecord, outputs: list[OutputRow] | None = None):
        from runlog.gitstore import commit_experiment

        return commit_experiment(self, record, outputs)

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"


def sweep_temporaries(ws: Workspace, older_than: float = 60.0) -> list[Path]:
    """Delete the atomic-write temporaries a killed writer left under agent/ and runlog/ (only
    ones older than `older_than` seconds: a live writer's are milliseconds old), and make sure
    the workspace's .gitignore ignores them (workspaces made before it lack the line)."""
    swept = []
    cutoff = time.time() - older_than
    for folder in (ws.agent_dir, ws.runlog_dir):
        for path in folder.rglob(TEMP_PATTERN) if folder.is_dir() else ():
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                swept.append(path)
    ignore = ws.root / ".gitignore"
    text = ignore.read_text(encoding="utf-8") if ignore.is_file() else ""
    if TEMP_PATTERN not in text.splitlines():
        separator = "\n" if text and not text.endswith("\n") else ""
        atomic_write_text(ignore, f"{text}{separator}{TEMP_PATTERN}\n")
    return swept
