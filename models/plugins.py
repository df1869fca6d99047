"""The one plugin manager: built-ins, the `autoresearch` entry-point group, an allow-list."""

from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType

import pluggy

from models import hookspecs

pm = pluggy.PluginManager("autoresearch")
pm.add_hookspecs(hookspecs)

DEFAULT_PLUGINS: tuple[str, ...] = (
    "models.backends.fake",
    "models.backends.local",
    "models.backends.ct2",
    "models.backends.anthropic_backend",
    "models.backends.apple",
)

_entry_points_loaded = False


def plugin_allowed(name: str) -> bool:
    """Whether AUTORESEARCH_LOAD_PLUGINS (a comma list; unset: everything) lets `name` load."""
    allow = os.environ.get("AUTORESEARCH_LOAD_PLUGINS")
    if allow is None:
        return True
    return name in {n.strip() for n in allow.split(",") if n.strip()}


def register_modules(modules: tuple[str, ...]) -> None:
    """Import and register built-in plugin modules once each (idempotent)."""
    for path in modules:
        if pm.get_plugin(path) is None:
            pm.register(importlib.import_module(path), name=path)


def load_entry_points() -> None:
    """Load third-party plugins from the `autoresearch` entry-point group (never under tests)."""
    global _entry_points_loaded
    if _entry_points_loaded or getattr(sys, "_called_from_test", False):
        return
    _entry_points_loaded = True
    if os.environ.get("AUTORESEARCH_LOAD_PLUGINS") is None:
        pm.load_setuptools_entrypoints("autoresearch")
        return
    from importlib.metadata import entry_points

    for ep in entry_points(group="autoresearch"):
        if plugin_allowed(ep.name) and pm.get_plugin(ep.name) is None:
            pm.register(ep.load(), name=ep.name)


def plugin_source(plugin: ModuleType | object) -> str:
    """Where a registered plugin came from: builtin, entry point, or a workspace file."""
    name = pm.get_name(plugin) or ""
    if name.startswith(("models.", "levers.", "orchestrator.", "tui.", "ruler.", "runlog.")):
        return "builtin"
    if name.startswith("workspace:"):
        return "workspace file"
    return "entry point"


def ensure_plugins() -> pluggy.PluginManager:
    register_modules(DEFAULT_PLUGINS)
    load_entry_points()
    return pm
