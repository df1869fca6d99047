"""Temporary folders that name the process owning them, so that a later process removes those
whose owner is gone.

A lever process's scratch folder and a fork server's socket folder are removed when their gate
or server closes, and at exit; a parent stopped with `kill -9` (the loop resumes after one)
gets to neither. Each folder's name carries its owner's pid: the first folder of a kind that a
process makes sweeps the folders of that kind whose owner no longer runs.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path

_swept: set[str] = set()  # kinds this process has swept already
_lock = threading.Lock()


def owned_folder(kind: str) -> Path:
    """A new private (0700) folder `autoresearch-<kind>-<pid>-…` in the temporary directory."""
    with _lock:
        if kind not in _swept:
            _swept.add(kind)
            sweep(kind)
    return Path(tempfile.mkdtemp(prefix=f"autoresearch-{kind}-{os.getpid()}-"))


def sweep(kind: str) -> list[Path]:
    """Remove the `kind` folders whose owning process has ended; returns those removed."""
    removed = []
    for folder in Path(tempfile.gettempdir()).glob(f"autoresearch-{kind}-*-*"):
        owner = folder.name.removeprefix(f"autoresearch-{kind}-").split("-", 1)[0]
        if owner.isdigit() and folder.is_dir() and not pid_exists(int(owner)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    except OverflowError:  # not a pid
        return False
    return True
