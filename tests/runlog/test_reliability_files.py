"""Issue 13, the run log's files: append-only files stay line-aligned after a torn write,
atomic-write temporaries never reach git, and bisect with good == bad is a clear error."""

from __future__ import annotations

import logging
import os
import time

import pytest

from runlog.jsonl import append_jsonl, read_jsonl
from runlog.workspace import Workspace, WorkspaceError
from tests.runlog.conftest import git, make_record


@pytest.fixture
def ws(tmp_path, ruler_name) -> Workspace:
    return Workspace.init(tmp_path / "ws", model="fake:planner", ruler=ruler_name)


def test_an_append_after_a_torn_line_keeps_the_next_event_readable(ws, caplog):
    ws.append_event("note", {"text": "first"})
    with open(ws.events_path, "a") as fh:
        fh.write('{"time": "2026-01-01T00:00:00Z", "kind": "no')  # killed mid-append
    with caplog.at_level(logging.WARNING):
        ws.append_event("note", {"text": "second"})
        texts = [e.payload["text"] for e in ws.events("note")]
    assert texts == ["first", "second"]
    assert "torn" in caplog.text
    assert ws.events_path.read_text().endswith("\n")


def test_a_reader_skips_a_garbage_line_with_a_warning(tmp_path, caplog):
    path = tmp_path / "x.jsonl"
    path.write_text('{"a": 1}\nnot json\n{"a": 2}\n')
    import json

    with caplog.at_level(logging.WARNING):
        assert read_jsonl(path, json.loads) == [{"a": 1}, {"a": 2}]
    assert f"{path}:2" in caplog.text
    append_jsonl(path, '{"a": 3}')
    assert read_jsonl(path, json.loads)[-1] == {"a": 3}


def test_temporaries_are_swept_on_open_and_never_committed(ws):
    stale = ws.runlog_dir / ".results.tsv.abc123.tmp"
    stale.write_text("half")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    Workspace.open(ws.root)
    assert not stale.exists()
    fresh = ws.outputs_dir / ".002.jsonl.xyz.tmp"  # a writer killed a moment ago
    fresh.write_text("half")
    ws.commit_experiment(make_record("001", "baseline", "kept"))
    files = git(ws, "ls-tree", "-r", "--name-only", "exp/001").split()
    assert not [f for f in files if f.endswith(".tmp")]
    assert ".*.tmp" in (ws.root / ".gitignore").read_text()


def test_an_old_workspace_gitignore_gets_the_temporaries_line(ws):
    (ws.root / ".gitignore").write_text(".autoresearch/\n")
    Workspace.open(ws.root)
    assert (ws.root / ".gitignore").read_text() == ".autoresearch/\n.*.tmp\n"


def test_bisect_with_good_equal_to_bad_is_a_clear_error(ws):
    from runlog.bisect import bisect

    ws.commit_experiment(make_record("001", "baseline", "kept"))
    with pytest.raises(WorkspaceError, match="same commit"):
        bisect(ws, good="exp/001", bad="exp/001", check="quality>0")


@pytest.mark.parametrize("damage", ["delete", "garbage"])
def test_a_damaged_committed_record_is_restored_from_its_tag_on_open(ws, damage):
    ws.commit_experiment(make_record("001", "baseline", "kept"))
    path = ws.record_path("001")
    before = path.read_text()
    if damage == "delete":
        path.unlink()
    else:
        path.write_bytes(b"\xff\x00 not a record")
    assert Workspace.open(ws.root).record("001").hypothesis == "baseline"
    assert path.read_text() == before
