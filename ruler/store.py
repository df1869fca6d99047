"""Where imported rulers live, and `import_folder`: a feature folder becomes a locked ruler.

Rulers are found by name (ruler.loader.ruler_dir) among the shipped ones (`ruler/data/`), the
stores registered by this process (a workspace's `rulers/` folder, registered when the
workspace is opened) and the user-level store (`$AUTORESEARCH_RULERS`, else
`$XDG_DATA_HOME/autoresearch/rulers`, else `~/.local/share/autoresearch/rulers`).

Importing validates the folder (ruler.feature: schema, gold against it, ids, pool, splits,
sanity suite), copies it under the feature's name, puts the training pool at `pool/train.jsonl`,
writes the default splits when the folder has none, adds the LLM judge's generic prompts when it
has none of its own, and hash-locks the copy. The user's gold
is imported as is: no cloud model is involved.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from models.base import AutoresearchError
from ruler.feature import (
    CASES_FILE,
    DEGRADED_FILE,
    FEATURE_FILE,
    NAME,
    SPLITS_FILE,
    STORED_POOL,
    read_feature_folder,
)
from ruler.lock import LOCK_NAME, PROMPTS_DIR, compute_lock, write_lock

STORE_ENV = "AUTORESEARCH_RULERS"
GENERIC_PROMPTS = Path(__file__).resolve().parent / "judges" / "prompts"
WORKSPACE_STORE = "rulers"  # inside a workspace: <workspace>/rulers/<name>
_registered: list[Path] = []


class RulerImportError(AutoresearchError):
    """A feature folder that cannot be imported (invalid, or a different ruler of that name)."""


def user_store() -> Path:
    """The user-level ruler store (overridable with $AUTORESEARCH_RULERS, e.g. for tests)."""
    if os.environ.get(STORE_ENV):
        return Path(os.environ[STORE_ENV]).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "autoresearch" / "rulers"


def register_store(path: Path) -> None:
    """Search `path` (a workspace's ruler store) for rulers by name in this process."""
    path = Path(path).resolve()
    if path not in _registered:
        _registered.insert(0, path)


def stores() -> list[Path]:
    """Every store searched by name, in order: registered workspace stores, then the user's."""
    return [*_registered, user_store()]


def find_imported(name: str) -> Path | None:
    for store in stores():
        candidate = store / name
        if (candidate / CASES_FILE).is_file():
            return candidate
    return None


@dataclass(frozen=True)
class Imported:
    name: str
    path: Path
    hash: str
    cases: int
    pool: int
    gates: dict[str, int]
    unchanged: bool  # the same ruler was already there


def import_folder(source: Path, store: Path, name: str | None = None) -> Imported:
    """Validate `source`, copy it into `store/<name>` and lock it (see the module docstring).
    Importing the same folder twice is a no-op; a different ruler under that name is refused
    (workspaces pin a ruler's hash: pick another --name)."""
    source = Path(source).resolve()
    if not (source / FEATURE_FILE).is_file():
        raise RulerImportError(
            f"{source}: no {FEATURE_FILE}; a feature folder needs feature.toml and cases.jsonl "
            "(see docs/features.md)"
        )
    folder = read_feature_folder(source)
    name = name or folder.feature.name
    if not NAME.match(name):
        raise RulerImportError(f"--name {name!r} must match [a-z0-9_]+")
    store.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=store))
    try:
        _copy_folder(folder, staging)
        read_feature_folder(staging)  # the copy loads as the source did
        digest = write_lock(staging)
        target = store / name
        if target.exists():
            return _existing(target, name, digest, folder)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return _summary(name, target, digest, folder, unchanged=False)


def _existing(target: Path, name: str, digest: str, folder) -> Imported:
    try:
        old = compute_lock(target)["hash"]
    except AutoresearchError:
        old = ""
    if old != digest:
        raise RulerImportError(
            f"{target}: a different ruler named {name!r} is already imported (hash "
            f"{old[:12] or 'unreadable'}, this folder {digest[:12]}); import it under another "
            "--name (workspaces pin a ruler by its hash)"
        )
    return _summary(name, target, digest, folder, unchanged=True)


def _summary(name, target, digest, folder, *, unchanged: bool) -> Imported:
    gates = {gate: len(ids) for gate, ids in folder.splits.items()}
    return Imported(name, target, digest, len(folder.cases), len(folder.pool), gates, unchanged)


def _copy_folder(folder, staging: Path) -> None:
    """The ruler's files, the pool moved to pool/train.jsonl, default splits written out."""
    src = folder.path
    for name in (FEATURE_FILE, CASES_FILE, DEGRADED_FILE, SPLITS_FILE):
        if (src / name).is_file():
            shutil.copyfile(src / name, staging / name)
    if not folder.splits_given:
        text = json.dumps(folder.splits, indent=2) + "\n"
        (staging / SPLITS_FILE).write_text(text, encoding="utf-8")
    if folder.pool_file is not None:
        (staging / STORED_POOL).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder.pool_file, staging / STORED_POOL)
    if (src / PROMPTS_DIR).is_dir():  # the feature's own LLM-judge prompts
        shutil.copytree(src / PROMPTS_DIR, staging / PROMPTS_DIR)
    add_generic_prompts(staging)
    (staging / LOCK_NAME).unlink(missing_ok=True)


def add_generic_prompts(folder: Path) -> bool:
    """Give a feature folder without judge prompts the generic ones, so they are locked with
    it (the LLM judge reads them); False when it has its own."""
    if (folder / PROMPTS_DIR).is_dir() or not (folder / FEATURE_FILE).is_file():
        return False
    shutil.copytree(GENERIC_PROMPTS, folder / PROMPTS_DIR)
    return True


def copy_ruler(source: Path, store: Path, name: str) -> Path:
    """A locked ruler copied as is into `store/<name>` (a workspace carrying its ruler); an
    identical copy already there is kept."""
    target = store / name
    if target.exists():
        return target
    store.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=store))
    try:
        shutil.copytree(source, staging, dirs_exist_ok=True)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
