"""`AUTORESEARCH_LOAD_PLUGINS`: which third-party plugins and workspace lever files load.

One syntax: a comma-separated list of plugin names as `autoresearch levers` shows them in its
`plugin` column —

    tidy_questions                 an entry point of the `autoresearch` group, by its name
    workspace:dedupe_questions.py  a lever file in the workspace's `agent/levers/`

Unset: everything loads. Empty: no entry point and no workspace file loads (built-ins always
do). A name that matches neither an installed entry point nor a lever file is an error naming
it, so a typo (`dedupe_questions.py` for `workspace:dedupe_questions.py`) never silently loads
nothing.
"""

from __future__ import annotations

import os
from importlib.metadata import entry_points
from pathlib import Path

from models.base import AutoresearchError

ENV = "AUTORESEARCH_LOAD_PLUGINS"
WORKSPACE_PREFIX = "workspace:"


class AllowListError(AutoresearchError):
    """An AUTORESEARCH_LOAD_PLUGINS entry that names nothing installed."""


def allow_list() -> set[str] | None:
    """The names in AUTORESEARCH_LOAD_PLUGINS, or None when it is unset (load everything)."""
    raw = os.environ.get(ENV)
    if raw is None:
        return None
    return {name.strip() for name in raw.split(",") if name.strip()}


def file_allowed(path: Path) -> bool:
    """Whether a workspace lever file loads: `workspace:<file name>` is on the list."""
    names = allow_list()
    return names is None or WORKSPACE_PREFIX + path.name in names


def _suggestion(name: str, folder: Path | None) -> str:
    stem = name.removeprefix(WORKSPACE_PREFIX).removesuffix(".py")
    if folder is not None and (folder / f"{stem}.py").is_file():
        return f"; did you mean {WORKSPACE_PREFIX}{stem}.py?"
    return ""


def check_allow_list(folder: Path | None = None) -> None:
    """Raise AllowListError for a name matching no entry point and no file in `folder`.

    Without a folder, `workspace:` names are not checked (there are no files to match).
    """
    names = allow_list()
    if not names:
        return
    installed = {ep.name for ep in entry_points(group="autoresearch")}
    files = {WORKSPACE_PREFIX + p.name for p in Path(folder).glob("*.py")} if folder else set()
    for name in sorted(names - installed - files):
        if folder is None and name.startswith(WORKSPACE_PREFIX):
            continue
        where = f"lever files in {folder}" if folder is not None else "no lever folder"
        raise AllowListError(
            f"{ENV}: {name!r} matches no installed entry point and no lever file "
            f"(entry points: {', '.join(sorted(installed)) or 'none'}; {where}); "
            f"use an entry-point name or {WORKSPACE_PREFIX}<file>.py{_suggestion(name, folder)}"
        )
