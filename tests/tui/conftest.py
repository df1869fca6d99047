"""Fixtures for the TUI tests: a workspace with the ruler lock stubbed, and one the real loop
runs on (the shipped ruler, fake planner and judge)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from runlog.workspace import Workspace


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An initialized workspace; the ruler's lock is stubbed so init needs no frozen ruler."""
    import ruler.loader

    def load_ruler(name: str = "planner") -> SimpleNamespace:
        return SimpleNamespace(
            name=name, lock_hash="lock", verify=lambda: "lock", is_planner=name == "planner"
        )

    monkeypatch.setattr(ruler.loader, "load_ruler", load_ruler)
    return Workspace.init(tmp_path / "ws").root


@pytest.fixture
def loop_workspace(tmp_path: Path) -> Path:
    """A workspace the real loop can run on: the fake planner, judged by `fake:judge` (fast)."""
    return Workspace.init(
        tmp_path / "ws", model="fake:planner", judge="fake:judge", researcher="heuristic"
    ).root
