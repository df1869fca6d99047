"""`init` on an existing workspace: which given settings differ from its own, and rewriting them
(`init --force`) as one commit on main, so the change is in the workspace's history."""

from __future__ import annotations

from dataclasses import dataclass

from models.files import atomic_write_text
from runlog.gitstore import IDENTITY, MAIN
from runlog.settings import CONFIG_NAME, WorkspaceError, dump_config
from runlog.workspace import Workspace


@dataclass(frozen=True)
class SettingChange:
    key: str
    old: str
    new: str

    def __str__(self) -> str:
        return f"{self.key}: {self.old} -> {self.new}"


def setting_changes(
    ws: Workspace,
    *,
    model: str | None = None,
    judge: str | None = None,
    researcher: str | None = None,
    ruler: str | None = None,
) -> list[SettingChange]:
    """The options given to `init` that differ from the workspace's settings."""
    c = ws.config
    pairs = [
        ("candidate.model", c.candidate.model, model),
        ("judge.spec", c.judge.spec, judge),
        ("researcher.spec", c.researcher.spec, researcher),
        ("ruler.name", c.ruler.name, ruler),
    ]
    return [SettingChange(k, old, new) for k, old, new in pairs if new is not None and new != old]


def apply_changes(ws: Workspace, changes: list[SettingChange]) -> str:
    """Rewrite autoresearch.toml (and agent.toml's model) and commit them on main; the commit."""
    from levers.config import dump_agent, load_agent

    if any(ch.key == "ruler.name" for ch in changes):
        raise WorkspaceError(
            f"{ws.root}: a workspace keeps the ruler it was made with (results must compare); "
            "make a new workspace for another ruler"
        )
    config = ws.config.model_copy(deep=True)
    paths = [CONFIG_NAME]
    for ch in changes:
        section, field = ch.key.split(".")
        setattr(getattr(config, section), field, ch.new)
        if ch.key == "candidate.model":
            agent = load_agent(ws.agent_path).model_copy(update={"model": ch.new})
            atomic_write_text(ws.agent_path, dump_agent(agent))
            paths.append("agent/agent.toml")
    atomic_write_text(ws.root / CONFIG_NAME, dump_config(config))
    with ws.repo() as repo:
        if repo.active_branch.name != MAIN:
            raise WorkspaceError(f"{ws.root}: check out {MAIN} first (settings live on {MAIN})")
        repo.git.add("--", *paths)
        message = "init --force: " + "; ".join(str(ch) for ch in changes)
        repo.git.commit("-q", "--no-verify", "-m", message, "--", *paths, env=IDENTITY)
        return repo.head.commit.hexsha
