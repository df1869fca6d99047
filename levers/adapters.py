"""The workspace adapter store: LoRA folders under `.autoresearch/adapters/<sha256>/`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from models.base import AutoresearchError


class AdapterError(AutoresearchError):
    """An adapter reference that does not resolve to one stored adapter."""


def adapter_store(workspace: Path) -> Path:
    """The folder that holds a workspace's adapters (it may not exist yet)."""
    return Path(workspace) / ".autoresearch" / "adapters"


def resolve_adapter(workspace: Path, ref: str) -> Path:
    """The adapter folder for a full sha256 or a unique prefix of one."""
    store = adapter_store(workspace)
    ref = ref.strip().lower()
    if not ref:
        raise AdapterError(f'no adapter named: set adapter = "<sha256 or prefix>" in {store}')
    found = sorted(p for p in store.glob(f"{ref}*") if p.is_dir()) if store.is_dir() and ref else []
    if not found:
        known = ", ".join(p.name[:12] for p in sorted(store.iterdir())) if store.is_dir() else ""
        hint = f"; stored: {known}" if known else "; the store is empty (autoresearch train)"
        raise AdapterError(f"no adapter {ref!r} in {store}{hint}")
    if len(found) > 1:
        raise AdapterError(
            f"adapter prefix {ref!r} is ambiguous in {store}: "
            + ", ".join(p.name[:16] for p in found)
            + "; give more characters"
        )
    return found[0]


def adapter_meta(folder: Path) -> dict:
    """The adapter's meta.json (kind, base model, training config), or {}."""
    path = Path(folder) / "meta.json"
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def adapter_kind(folder: Path) -> Literal["sft", "orpo"]:
    """sft or orpo from meta.json; sft when unknown."""
    return "orpo" if str(adapter_meta(folder).get("kind", "")).lower() == "orpo" else "sft"
