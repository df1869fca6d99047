"""A workspace's folder: its settings, its paths and the run log read from disk (no git writes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from git import InvalidGitRepositoryError, NoSuchPathError, Repo
from pydantic import ValidationError

from models.files import STATE_DIR, atomic_write_text
from runlog.jsonl import append_jsonl, read_jsonl
from runlog.records import Event, ExperimentRecord, OutputRow, ReferenceRecord, experiment_id
from runlog.settings import CONFIG_NAME, WorkspaceError, load_config


class WorkspaceFolder:
    """One workspace folder (the main checkout or a git worktree of it): settings, paths, and the
    run log as it is on disk. Git writes live in `runlog.gitstore`; `runlog.workspace.Workspace`
    adds them."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.config = load_config(self.root / CONFIG_NAME)
        self.main_root = self._main_root()

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

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.root)!r})"
