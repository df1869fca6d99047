"""The loop's own state files under `.autoresearch/`, and the way out when one is unreadable.

The checkpoint database and the commit journal can be lost without losing anything recorded
(records, outputs and tags live in `runlog/` and git): `reset_state` moves them aside, which is
what `autoresearch run --reset-state` does; `StateFileError` names the file and offers it.
"""

from __future__ import annotations

import time
from pathlib import Path

from models import AutoresearchError
from runlog.settings import find_root
from runlog.workspace import Workspace

CHECKPOINTS = "checkpoints.sqlite"
RESETTABLE = (CHECKPOINTS, f"{CHECKPOINTS}-wal", f"{CHECKPOINTS}-shm", "commit.json")
RESET_HINT = "`autoresearch run --reset-state` moves it aside (nothing recorded is lost)"


class StateFileError(AutoresearchError):
    """A state file under `.autoresearch/` that cannot be read."""

    def __init__(self, path: Path, problem: object) -> None:
        detail = " ".join(str(problem).split())
        super().__init__(f"{path}: unreadable ({detail}); {RESET_HINT}")


def reset_state(directory: Path | str) -> list[tuple[Path, Path]]:
    """Move the checkpoint database and commit journal to `.autoresearch/aside/`; returns
    (from, to) for each file moved. The workspace itself is not opened (it may not open)."""
    state = Workspace(find_root(Path(directory))).state_dir  # no repair: it reads the journal
    aside = state / "aside"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    moved = []
    for name in RESETTABLE:
        path = state / name
        if path.exists():
            aside.mkdir(parents=True, exist_ok=True)
            target = aside / f"{name}.{stamp}"
            path.replace(target)
            moved.append((path, target))
    return moved
