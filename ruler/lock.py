"""The ruler lock: sha256 of every ruler file plus the quality formula version.

`ruler.lock` is JSON: `{"quality_formula_version": N, "files": {relpath: sha256}, "hash": H}`.
H (the ruler hash that results and caches carry) is sha256 over the formula version and the
sorted `relpath sha256` lines. The training pool is deliberately not locked: it is not the
held-out ruler, and the near-duplicate test guards it instead.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
from pathlib import Path

from models.base import AutoresearchError
from models.files import atomic_write_text

QUALITY_FORMULA_VERSION = 1
LOCK_NAME = "ruler.lock"
LOCKED_FILES = ("cases.jsonl", "splits.json", "rubric.toml")  # a planner-style ruler's
FEATURE_FILE = "feature.toml"
FEATURE_LOCKED = ("cases.jsonl", FEATURE_FILE)  # a feature folder's, plus FEATURE_OPTIONAL present
FEATURE_OPTIONAL = ("splits.json", "degraded.jsonl", "rubric.toml")
PROMPTS_DIR = "prompts"


class RulerLockError(AutoresearchError):
    """The ruler changed since it was frozen (or was never frozen)."""


def data_files(ruler_dir: Path) -> tuple[str, ...]:
    """The data files a lock covers: a feature folder's feature.toml, cases and whichever of
    its optional files exist (splits default from the cases); else the planner's three."""
    if not (ruler_dir / FEATURE_FILE).is_file():
        return LOCKED_FILES
    return FEATURE_LOCKED + tuple(f for f in FEATURE_OPTIONAL if (ruler_dir / f).is_file())


def locked_paths(ruler_dir: Path) -> list[str]:
    """Relative paths of every file the lock covers: data files and every prompt template."""
    prompts = ruler_dir / PROMPTS_DIR
    templates = (
        sorted(f"{PROMPTS_DIR}/{p.name}" for p in prompts.glob("*") if p.is_file())
        if prompts.is_dir()
        else []
    )
    return [*data_files(ruler_dir), *templates]


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def combined_hash(files: dict[str, str], version: int) -> str:
    lines = [f"quality_formula_version {version}"]
    lines += [f"{name} {digest}" for name, digest in sorted(files.items())]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def compute_lock(ruler_dir: Path) -> dict:
    files = {}
    for rel in locked_paths(ruler_dir):
        if not (ruler_dir / rel).is_file():
            raise RulerLockError(
                f"{ruler_dir / rel}: missing; a ruler needs {', '.join(data_files(ruler_dir))}"
            )
        files[rel] = file_sha256(ruler_dir / rel)
    version = QUALITY_FORMULA_VERSION
    return {
        "quality_formula_version": version,
        "files": files,
        "hash": combined_hash(files, version),
    }


def write_lock(ruler_dir: Path) -> str:
    """Freeze a ruler directory: write its `ruler.lock` atomically; returns the ruler hash."""
    lock = compute_lock(ruler_dir)
    text = json.dumps(lock, indent=2, sort_keys=True) + "\n"
    atomic_write_text(ruler_dir / LOCK_NAME, text)
    return lock["hash"]


def read_lock(ruler_dir: Path) -> dict:
    path = ruler_dir / LOCK_NAME
    try:
        lock = json.loads(path.read_text(encoding="utf-8"))
        files, version, digest = lock["files"], lock["quality_formula_version"], lock["hash"]
    except FileNotFoundError:
        raise RulerLockError(
            f"{path}: no lock; freeze the ruler with `autoresearch ruler freeze {ruler_dir}`"
        ) from None
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise RulerLockError(f"{path}: unreadable lock ({exc.__class__.__name__})") from None
    if combined_hash(files, version) != digest:
        raise RulerLockError(
            f"{path}: the lock's own hash does not match its entries; it was edited"
        )
    return lock


def verify_lock(ruler_dir: Path) -> str:
    """Check every locked file byte for byte; returns the ruler hash or raises naming a file."""
    lock = read_lock(ruler_dir)
    if lock["quality_formula_version"] != QUALITY_FORMULA_VERSION:
        raise RulerLockError(
            f"{ruler_dir / LOCK_NAME}: frozen with quality formula"
            f" v{lock['quality_formula_version']}, "
            f"this code computes v{QUALITY_FORMULA_VERSION}; results would not be comparable"
        )
    expected = lock["files"]
    for rel in sorted(set(expected) | set(locked_paths(ruler_dir))):
        path = ruler_dir / rel
        if rel not in expected:
            raise RulerLockError(f"{path}: not in the ruler lock (added after freezing); remove it")
        if not path.is_file():
            raise RulerLockError(f"{path}: locked ruler file is missing")
        if file_sha256(path) != expected[rel]:
            raise RulerLockError(
                f"{path}: changed since the ruler was frozen; restore it (the ruler must not drift)"
            )
    return lock["hash"]


def code_hash() -> str:
    """sha256 of the judge's own source (every `.py` file of the `ruler` package) as it is on
    disk now; compared before and after a gate, so code that rewrites the judge is caught."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


PROJECT_ROOT = Path(__file__).resolve().parent.parent
JUDGE_PACKAGES = ("ruler", "models")  # of this project, the code a judge runs


def loaded_code() -> dict[str, tuple[int, int, int]]:
    """(mtime, size, inode) of the file of every module this process has imported that a judge
    may run: installed packages (its embedding model's, tokenizers, numpy) and this project's
    `ruler` and `models`, not the loop's own code. Taken around a gate."""
    found: dict[str, tuple[int, int, int]] = {}
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if not path or path in found or not _judge_side(path):
            continue
        try:
            st = os.stat(path)
        except OSError:
            continue
        found[path] = (st.st_mtime_ns, st.st_size, st.st_ino)
    return found


def changed_code(before: dict[str, tuple[int, int, int]], since_ns: int) -> list[str]:
    """Module files changed since `before` was taken, and modules imported since from files
    written after `since_ns` (the first few)."""
    now = loaded_code()
    changed = [path for path, stat in before.items() if now.get(path, stat) != stat]
    changed += [path for path, stat in now.items() if path not in before and stat[0] >= since_ns]
    return sorted(changed)[:3]


@functools.cache
def _judge_side(path: str) -> bool:
    """Whether a module file is judge-side; cached by path, since resolving every loaded
    module's path on each gate cost over a second (a swapped file still changes its stat)."""
    resolved = os.path.realpath(path)
    root = str(PROJECT_ROOT) + os.sep
    if not resolved.startswith(root):
        return True
    return resolved[len(root) :].split(os.sep, 1)[0] in JUDGE_PACKAGES
