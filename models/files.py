"""Files every layer writes: whole files atomically (temp + fsync + os.replace), and `STATE_DIR`,
the git-ignored folder of a workspace (caches, checkpoints, adapters, the loop's live state).
Appending lines is `runlog.jsonl.append_jsonl`'s (one owner: it also heals a torn last line)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

STATE_DIR = ".autoresearch"


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` to `path` so a reader (or a crash) sees the old file or the new, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; what we write is for every reader
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
