"""The workspace: a git repository holding the agent, the run log and `autoresearch.toml`.

`Workspace.init(dir)` creates one; `Workspace.open(dir)` finds one (from any folder inside it,
git worktrees included) and repairs an experiment left half-recorded by a crash. Reading the
run log is `runlog.folder.WorkspaceFolder`'s; writing experiments to git is `runlog.gitstore`'s;
this class joins the two.
"""

from __future__ import annotations

import time
from pathlib import Path

from git import Repo

from levers.config import BASELINE_AGENT, dump_agent
from models.files import atomic_write_text
from ruler.loader import DATA_DIR, Ruler, load_ruler, ruler_dir
from ruler.store import WORKSPACE_STORE, copy_ruler, import_folder, register_store
from runlog import gitstore
from runlog.folder import WorkspaceFolder
from runlog.records import ExperimentRecord, OutputRow
from runlog.results import render_results
from runlog.settings import (
    CONFIG_NAME,
    GITIGNORE,
    TEMP_PATTERN,
    CandidateSection,
    JudgeSection,
    KeepSection,
    ResearcherSection,
    RulerSection,
    WorkspaceConfig,
    WorkspaceError,
    dump_config,
    find_root,
)

LEVERS_README = (
    "# agent/levers\n\nLever plugins for this workspace's agent: Python modules with `@hookimpl`\n"
    "functions (see `autoresearch levers`). The researcher writes new ones here.\n"
)


class Workspace(WorkspaceFolder):
    """A workspace folder with its git store: open, create, and record experiments."""

    @classmethod
    def open(cls, path: str | Path = ".", *, repair: bool = True) -> Workspace:
        """Open the workspace containing `path`; finish any experiment a crash left uncommitted."""
        ws = cls(find_root(Path(path)))
        register_store(ws.root / WORKSPACE_STORE)  # the rulers this workspace carries
        if repair and ws.is_main_checkout():
            sweep_temporaries(ws)
            gitstore.repair(ws)
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
        """Create a workspace in an empty or new folder; an existing workspace is just opened."""
        path = Path(path).resolve()
        if (path / CONFIG_NAME).is_file():
            return cls.open(path)
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise WorkspaceError(
                f"{path}: not empty and not a workspace; choose a new or empty folder"
            )
        ruler, loaded = workspace_ruler(ruler, path)
        gate, confirm_gate = loaded.default_gates()
        agent = BASELINE_AGENT.model_copy(update={"model": model}) if model else BASELINE_AGENT
        config = WorkspaceConfig(
            candidate=CandidateSection(model=agent.model),
            judge=JudgeSection(spec=judge or "embedding"),
            researcher=ResearcherSection(spec=researcher or "auto"),
            ruler=RulerSection(name=ruler, lock_hash=loaded.verify()),
            keep=KeepSection(gate=gate, confirm_gate=confirm_gate),
        )
        files = {
            CONFIG_NAME: dump_config(config),
            ".gitignore": GITIGNORE,
            "agent/agent.toml": dump_agent(agent),
            "agent/levers/README.md": LEVERS_README,
            "runlog/results.tsv": render_results([], {}),
            "runlog/events.jsonl": "",
            "runlog/experiments/.gitkeep": "",
            "runlog/outputs/.gitkeep": "",
            "runlog/reference/.gitkeep": "",
        }
        for name, text in files.items():
            atomic_write_text(path / name, text)
        _initial_commit(path, f"init: autoresearch workspace (ruler {loaded.name})\n")
        return cls(path)

    def next_experiment_id(self) -> str:
        return gitstore.next_experiment_id(self)

    def current_best(self) -> gitstore.Best | None:
        return gitstore.current_best(self)

    def commit_experiment(
        self, record: ExperimentRecord, outputs: list[OutputRow] | None = None
    ) -> gitstore.CommitInfo:
        return gitstore.commit_experiment(self, record, outputs)


def workspace_ruler(ruler: str, root: Path) -> tuple[str, Ruler]:
    """The ruler a new workspace at `root` pins, by the name its settings will record. A shipped
    ruler is named; a feature folder (imported or not yet) is copied into the workspace's
    `rulers/` store (an unlocked one is validated and locked on the way, as `ruler import`
    does), so the workspace carries its ruler; a planner-style ruler folder stays a path."""
    source = ruler_dir(ruler)
    if source.parent == DATA_DIR or not (source / "feature.toml").is_file():
        return ruler, load_ruler(ruler)
    store = root / WORKSPACE_STORE
    if (source / "ruler.lock").is_file():
        load_ruler(source).verify()  # a changed ruler is refused before it is copied
        name = source.name
        copy_ruler(source, store, name)
    else:
        name = import_folder(source, store).name
    register_store(store)
    return name, load_ruler(store / name)


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


def _initial_commit(path: Path, message: str) -> None:
    with Repo.init(path, initial_branch=gitstore.MAIN) as repo:
        repo.git.add("-A")
        sha = gitstore.commit_object(repo, repo.git.write_tree(), [], message)
        repo.git.update_ref(f"refs/heads/{gitstore.MAIN}", sha)
