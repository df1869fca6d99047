"""`autoresearch init | log | status | show | report` on a small workspace."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from orchestrator.cli import load_commands
from runlog.workspace import Workspace, WorkspaceError
from tests.runlog.conftest import git, make_record, set_agent
from tests.runlog.test_report import TRACE


@pytest.fixture(scope="module")
def cli():
    return load_commands()


def run(cli, *args: str):
    result = CliRunner(env={"COLUMNS": "200"}).invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def test_init_creates_a_workspace(cli, tmp_path: Path, ruler_name: str) -> None:
    target = tmp_path / "ws"
    out = run(cli, "init", str(target), "--model", "fake:planner", "--ruler", ruler_name).output
    assert "workspace" in out
    for name in (
        "autoresearch.toml",
        "agent/agent.toml",
        "agent/levers",
        "runlog/results.tsv",
        "runlog/events.jsonl",
        ".gitignore",
    ):
        assert (target / name).exists(), name
    config = tomllib.loads((target / "autoresearch.toml").read_text())
    assert (
        config["candidate"]["model"] == "fake:planner" and len(config["ruler"]["lock_hash"]) == 64
    )
    assert 'model = "fake:planner"' in (target / "agent/agent.toml").read_text()
    ws = Workspace.open(target)
    assert git(ws, "status", "--porcelain") == ""
    assert git(ws, "log", "--format=%s").strip().startswith("init:")
    assert ".autoresearch/" in (target / ".gitignore").read_text()
    run(cli, "init", str(target), "--ruler", ruler_name)  # an existing workspace is just opened


def test_init_refuses_a_non_empty_folder(cli, tmp_path: Path) -> None:
    (tmp_path / "stuff.txt").write_text("mine")
    result = CliRunner().invoke(cli, ["init", str(tmp_path)])
    assert result.exit_code != 0
    assert "not empty and not a workspace" in str(result.exception)


def test_log_status_show(cli, ws: Workspace) -> None:
    set_agent(ws, "baseline")
    ws.commit_experiment(make_record("001", "baseline", "kept", 0.38, "baseline", trace=TRACE))
    set_agent(ws, "rubric prompt", extra='[levers.params]\ninstructions = "rubric"\n')
    ws.commit_experiment(make_record("002", "rubric prompt", "discarded", 0.36, trace=TRACE))
    rows = json.loads(run(cli, "log", "-C", str(ws.root), "--json").output)
    assert [(r["id"], r["status"], r["on_main"]) for r in rows] == [
        ("001", "kept", True),
        ("002", "discarded", False),
    ]
    assert "rubric prompt" in run(cli, "log", "-C", str(ws.root)).output
    status = run(cli, "status", "-C", str(ws.root)).output
    assert "exp001" in status and "next exp003" in status
    shown = run(cli, "show", "002", "-C", str(ws.root)).output
    assert "hypothesis: rubric prompt" in shown and "W/T/L 2/5/3" in shown
    assert '+instructions = "rubric"' in shown  # the diff against its parent
    view = json.loads(run(cli, "show", "exp002", "-C", str(ws.root), "--json").output)
    assert view["parent"] == "001" and view["diagram"]
    with pytest.raises(WorkspaceError, match="no experiment 009"):
        run(cli, "show", "9", "-C", str(ws.root))


def test_report_command(cli, ws: Workspace) -> None:
    out = run(cli, "report", "-C", str(ws.root)).output
    assert "dashboard.html" in out and ws.dashboard_path.is_file()
    assert git(ws, "status", "--porcelain") == ""  # the dashboard is git-ignored
