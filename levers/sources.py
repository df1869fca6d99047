"""What an agent's outputs depend on, as hashes: the source of every module its levers loaded,
the model's weights, and the project version (the candidate output cache keys on these).

Runs where the levers are loaded (the pipeline process, `levers.worker`): a lever's code is the
files of its top-level package that are imported at that point (a built-in's is all of `levers`
and `models` that is loaded, which includes the runner and the backends), or its one file for a
workspace lever file.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import sys
from pathlib import Path

from levers.config import AgentConfig

CORE_PACKAGES = ("levers", "models")


def file_digest(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def project_version() -> str:
    try:
        return importlib.metadata.version("autoresearch")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def package_files(top: str) -> list[str]:
    """The files of every loaded module of the top-level package `top` (or module `top`)."""
    files = set()
    for name, module in list(sys.modules.items()):
        if name != top and not name.startswith(top + "."):
            continue
        file = getattr(module, "__file__", None)
        if file and Path(file).is_file():
            files.add(str(Path(file).resolve()))
    return sorted(files)


def lever_sources(config: AgentConfig) -> dict[str, str]:
    """sha256 of every loaded module file the agent's enabled levers (and the pipeline) run."""
    from levers.registry import lever_classes

    known = lever_classes()
    tops = set(CORE_PACKAGES)
    for spec in config.enabled_levers():
        tops.add(known[spec.name].cls.__module__.split(".")[0])
    return {path: file_digest(path) for top in sorted(tops) for path in package_files(top)}


def weights_id(spec: str) -> str:
    """An id of the model's weights: the spec, plus the installed weights package's version for a
    shipped local model, or the files' names, sizes and times for `local:hf:<folder>`."""
    backend, _, name = spec.partition(":")
    if backend != "local":
        return spec
    if name.startswith("hf:"):
        folder = Path(name[3:])
        stats = [
            f"{p.relative_to(folder)} {p.stat().st_size} {p.stat().st_mtime_ns}"
            for p in sorted(folder.rglob("*"))
            if p.is_file()
        ]
        return spec + " " + hashlib.sha256("\n".join(stats).encode()).hexdigest()
    from models.backends.local import SOURCES

    source = SOURCES.get(name)
    if source is None:
        return spec
    try:
        return f"{spec} {source.package}=={importlib.metadata.version(source.package)}"
    except importlib.metadata.PackageNotFoundError:
        return f"{spec} (weights not installed)"
