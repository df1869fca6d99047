"""Reading the numbered tags of a workspace: `exp/NNN` for experiments, `ref/NNN` for references."""

from __future__ import annotations

from git import Repo

from runlog.folder import WorkspaceFolder
from runlog.records import experiment_id

EXPERIMENT_TAG_PREFIX = "exp/"


def tagged_commits(repo: Repo, prefix: str) -> dict[str, str]:
    """Number -> commit sha for every tag `<prefix>NNN` (annotated tags peeled to their commit)."""
    out = repo.git.for_each_ref(
        f"refs/tags/{prefix}", format="%(refname) %(objectname) %(*objectname)"
    )
    commits = {}
    for line in out.splitlines():
        ref, sha, *peeled = line.split()
        number = ref.removeprefix(f"refs/tags/{prefix}")
        if number.isdigit():
            commits[number] = peeled[0] if peeled else sha
    return commits


def experiment_commits(ws: WorkspaceFolder) -> dict[str, str]:
    """Experiment id -> commit sha, from the `exp/NNN` tags."""
    with ws.repo() as repo:
        tags = tagged_commits(repo, EXPERIMENT_TAG_PREFIX)
    return {experiment_id(number): sha for number, sha in tags.items()}
