"""Every experiment a commit and a tag; main moves on kept ones only; crashes are repaired."""

from __future__ import annotations

import json

import pytest
from git.cmd import Git

from runlog import gitstore
from runlog.records import OutputRow
from runlog.results import COLUMNS
from runlog.workspace import Workspace
from tests.runlog.conftest import git, make_record, set_agent


def record_three(ws: Workspace) -> dict[str, str]:
    set_agent(ws, "rubric prompt")
    kept = ws.commit_experiment(make_record("001", "rubric prompt", "kept", 0.45))
    set_agent(ws, "few-shot prompt")
    discarded = ws.commit_experiment(make_record("002", "few-shot prompt", "discarded", 0.41))
    set_agent(ws, "broken lever")
    (ws.agent_dir / "levers" / "broken.py").write_text("raise ValueError\n")
    failed = ws.commit_experiment(make_record("003", "broken lever", "failed", None))
    return {"kept": kept.commit, "discarded": discarded.commit, "failed": failed.commit}


def test_kept_line_on_main_and_every_experiment_tagged(ws: Workspace) -> None:
    commits = record_three(ws)
    first_parent = git(ws, "log", "--first-parent", "--format=%H %s", "main").splitlines()
    assert [line.split(" ", 1)[1] for line in first_parent] == [
        "exp001: rubric prompt",
        "init: autoresearch workspace (ruler planner)",
    ]
    assert git(ws, "tag", "-l", "exp/*").split() == ["exp/001", "exp/002", "exp/003"]
    for status in ("discarded", "failed"):  # hung off the best at the time, not on main
        assert git(ws, "rev-parse", f"{commits[status]}^").strip() == commits["kept"]
        assert git(ws, "branch", "--contains", commits[status]).strip() == ""


def test_trailers_and_message(ws: Workspace) -> None:
    record_three(ws)
    message = git(ws, "log", "-1", "--format=%B", "exp/002")
    assert message.startswith("exp002: few-shot prompt\n\nmethod of few-shot prompt\n")
    trailers = gitstore.parse_trailers(message)
    assert trailers == {
        "Experiment": "exp002",
        "Lever-Class": "prompt",
        "Gate": "dev-10",
        "Quality": "0.4100",
        "Status": "discarded",
        "Parent": "exp001",
    }
    assert gitstore.parse_trailers(git(ws, "log", "-1", "--format=%B", "exp/003"))["Quality"] == "-"


def test_discarded_restores_agent_and_next_kept_carries_every_record(ws: Workspace) -> None:
    record_three(ws)
    assert "rubric prompt" in ws.agent_path.read_text()
    assert not (ws.agent_dir / "levers" / "broken.py").exists()
    assert "broken.py" in git(ws, "show", "--stat", "--format=", "exp/003")
    set_agent(ws, "self critique")
    ws.commit_experiment(make_record("004", "self critique", "kept", 0.5))
    tree = git(ws, "ls-tree", "--name-only", "main", "runlog/experiments/").split()
    assert set(tree) >= {f"runlog/experiments/{i}.json" for i in ("001", "002", "003", "004")}
    assert git(ws, "status", "--porcelain").strip() == ""


def test_commit_is_idempotent(ws: Workspace) -> None:
    set_agent(ws, "rubric prompt")
    record = make_record("001", "rubric prompt", "kept", 0.45)
    first = ws.commit_experiment(record)
    again = ws.commit_experiment(record)
    assert first.created and not again.created
    assert first.commit == again.commit
    assert git(ws, "rev-list", "--count", "main").strip() == "2"
    assert ws.next_experiment_id() == "002"


def test_current_best_and_parent(ws: Workspace) -> None:
    assert ws.current_best() is None
    record_three(ws)
    best = ws.current_best()
    assert best.id == "001" and best.result.quality == pytest.approx(0.45)
    assert best.commit == git(ws, "rev-parse", "main").strip()
    assert ws.record("002").parent == "001"
    assert ws.next_experiment_id() == "004"


def test_records_outputs_and_results_tsv(ws: Workspace) -> None:
    set_agent(ws, "rubric prompt")
    rows = [OutputRow(case_id="c01", text="Title: x\n1. a?")]
    info = ws.commit_experiment(make_record("001", "rubric\tprompt", "kept", 0.45), rows)
    record = ws.record("001")
    assert record.outputs == "runlog/outputs/001.jsonl"
    assert [f.name for f in record.lever_files] == ["agent.toml", "levers/README.md"]
    assert ws.outputs("001")[0].case_id == "c01"
    lines = ws.results_path.read_text().splitlines()
    assert lines[0].split("\t") == list(COLUMNS)
    cells = dict(zip(COLUMNS, lines[1].split("\t"), strict=True))
    assert cells["commit"] == "-" and cells["quality"] == "0.4500"
    assert cells["description"] == "rubric prompt" and cells["status"] == "kept"
    from runlog.results import read_results

    assert read_results(ws)[0]["commit"] == info.commit[:7]


def test_crash_between_record_and_commit_is_repaired(ws: Workspace, monkeypatch) -> None:
    set_agent(ws, "rubric prompt")

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(gitstore, "snapshot_tree", crash)  # before the commit exists
    with pytest.raises(KeyboardInterrupt):
        ws.commit_experiment(make_record("001", "rubric prompt", "kept", 0.45))
    monkeypatch.undo()
    assert ws.record_path("001").is_file() and gitstore.pending_records(ws) == ["001"]
    reopened = Workspace.open(ws.root)
    assert gitstore.pending_records(reopened) == []
    assert git(ws, "tag", "-l").split() == ["exp/001"]
    assert git(ws, "log", "-1", "--format=%s", "main").strip() == "exp001: rubric prompt"
    assert git(ws, "status", "--porcelain").strip() == ""


def test_crash_after_tag_finishes_restore(ws: Workspace, monkeypatch) -> None:
    set_agent(ws, "rubric prompt")
    ws.commit_experiment(make_record("001", "rubric prompt", "kept", 0.45))
    set_agent(ws, "worse prompt")

    def killed(*args, **kwargs):  # the restore of agent/ after the tag
        raise SystemExit(9)

    monkeypatch.setattr(Git, "checkout", killed, raising=False)
    with pytest.raises(SystemExit):
        ws.commit_experiment(make_record("002", "worse prompt", "discarded", 0.3))
    monkeypatch.undo()
    assert "worse prompt" in ws.agent_path.read_text()
    assert json.loads((ws.state_dir / "commit.json").read_text()) == {"id": "002"}
    Workspace.open(ws.root)
    assert "rubric prompt" in ws.agent_path.read_text()
    assert not (ws.state_dir / "commit.json").exists()


def test_crash_after_main_moved_before_tag(ws: Workspace, monkeypatch) -> None:
    set_agent(ws, "rubric prompt")
    calls = []

    def fail_tag(self, *args, **kwargs):
        calls.append(args)
        raise KeyboardInterrupt("killed before the tag")

    from git.cmd import Git

    monkeypatch.setattr(Git, "tag", fail_tag, raising=False)
    with pytest.raises(KeyboardInterrupt):
        ws.commit_experiment(make_record("001", "rubric prompt", "kept", 0.45))
    monkeypatch.undo()
    assert calls
    Workspace.open(ws.root)
    assert git(ws, "rev-list", "--count", "main").strip() == "2"  # not committed twice
    assert git(ws, "rev-parse", "exp/001").strip() == git(ws, "rev-parse", "main").strip()


def test_refuses_when_head_is_not_main(ws: Workspace) -> None:
    git(ws, "checkout", "-q", "--detach")
    set_agent(ws, "x")
    with pytest.raises(gitstore.WorkspaceError, match="not on branch main"):
        ws.commit_experiment(make_record("001", "x", "kept"))


def test_events_append_and_skip_torn_line(ws: Workspace) -> None:
    ws.append_event("note", {"text": "try retrieval"})
    ws.append_event("approval_request", {"kind": "sft"})
    with open(ws.events_path, "a") as fh:
        fh.write('{"time": "2025-01-01T00:00:00Z", "kind": "no')
    assert [e.kind for e in ws.events()] == ["note", "approval_request"]
    assert ws.events("note")[0].payload == {"text": "try retrieval"}
