"""Append-only JSON-lines files that stay line-aligned after a crash mid-append.

`append_jsonl` first terminates a torn last line (a crash left it without its newline), with a
warning, so the new line never fuses with it; `read_jsonl` yields each parsed line and skips,
with a warning, a line that does not parse instead of losing the line after it.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
_warned: set[tuple[str, int]] = set()


def append_jsonl(path: Path, line: str) -> None:
    """Append one line (one O_APPEND write), terminating a torn last line first."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (line.rstrip("\n") + "\n").encode("utf-8")
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # the check and the append are one step for appenders
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            log.warning("%s: the last line was torn by a crash; terminated it", path)
            data = b"\n" + data
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)  # closing releases the lock


def read_jsonl(path: Path, parse: Callable[[str], T]) -> list[T]:
    """Every line of `path` that `parse` accepts; an unreadable line is skipped with a warning."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    items = []
    for number, line in enumerate(raw.split(b"\n"), 1):
        if not line.strip():
            continue
        try:
            items.append(parse(line.decode("utf-8")))
        except ValueError:  # json, pydantic and unicode errors all derive from ValueError
            warn_skipped(path, number)
    return items


def warn_skipped(path: Path, number: int) -> None:
    """Warn once per process about an unreadable line (torn by a crash, or edited by hand)."""
    key = (str(path), number)
    if key not in _warned:
        _warned.add(key)
        log.warning("%s:%d: skipped an unreadable line (torn by a crash?)", path, number)
