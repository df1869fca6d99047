"""Workspace settings, opening from inside, worktrees sharing `.autoresearch/`, the pinned ruler."""

from __future__ import annotations

import pytest

from runlog.evaluate import evaluate_workspace
from runlog.records import ExperimentRecord, experiment_id
from runlog.settings import WorkspaceError, dump_config, load_config
from runlog.workspace import Workspace
from tests.runlog.conftest import ParseJudge, git


def test_config_round_trip(ws: Workspace) -> None:
    text = (ws.root / "autoresearch.toml").read_text()
    assert dump_config(ws.config) == text
    assert ws.config.keep.gate == "dev-10" and ws.config.judge.spec == "embedding"
    (ws.root / "autoresearch.toml").write_text(text.replace("[budget]", "[budget]\nbogus = 1"))
    with pytest.raises(WorkspaceError, match="budget.bogus"):
        load_config(ws.root / "autoresearch.toml")


def test_open_from_a_subfolder_and_a_worktree(ws: Workspace, tmp_path) -> None:
    assert Workspace.open(ws.agent_dir / "levers").root == ws.root
    git(ws, "worktree", "add", "--detach", str(tmp_path / "wt"), "main")
    other = Workspace.open(tmp_path / "wt")
    assert other.root == (tmp_path / "wt").resolve() and not other.is_main_checkout()
    assert other.state_dir == ws.state_dir  # caches are shared with the main checkout
    with pytest.raises(WorkspaceError, match="not inside an autoresearch workspace"):
        Workspace.open(tmp_path)


def test_changed_ruler_pin_refuses_to_evaluate(ws: Workspace) -> None:
    path = ws.root / "autoresearch.toml"
    path.write_text(path.read_text().replace(ws.config.ruler.lock_hash, "0" * 64))
    with pytest.raises(WorkspaceError, match="changed since this workspace pinned it"):
        evaluate_workspace(Workspace.open(ws.root), judge=ParseJudge())


def test_experiment_ids() -> None:
    assert [experiment_id(v) for v in (7, "7", "007", "exp007", "exp/007")] == ["007"] * 5
    with pytest.raises(ValueError):
        experiment_id("seven")
    record = ExperimentRecord(id="exp12", hypothesis="h", status="kept", parent="11")
    assert (record.id, record.name, record.tag, record.parent) == (
        "012",
        "exp012",
        "exp/012",
        "011",
    )
    with pytest.raises(ValueError):
        ExperimentRecord(id="001", hypothesis="h", status="kept", surprise=1)
