"""Scratch folders name their owner's pid; the next process sweeps those of an owner killed
before it could remove them (`levers.scratch`)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

from levers import scratch

OWNER = """
import os, sys
from levers.scratch import owned_folder
folder = owned_folder("sandbox")
(folder / "worker.log").write_text("left behind")
print(folder, flush=True)
os._exit(0)  # no cleanup, as after kill -9
"""


def test_a_killed_owners_folders_are_swept_and_live_ones_kept(tmp_path, monkeypatch):
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    found = subprocess.run(
        [sys.executable, "-c", OWNER], env=env, capture_output=True, text=True, check=True
    )
    orphan = tmp_path / os.path.basename(found.stdout.strip())
    assert orphan.is_dir() and orphan.name.startswith("autoresearch-sandbox-")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(scratch, "_swept", set())
    mine = scratch.owned_folder("sandbox")
    assert not orphan.exists(), "the killed owner's folder was not swept"
    assert mine.name.startswith(f"autoresearch-sandbox-{os.getpid()}-")
    other_kind = scratch.owned_folder("forkserver")
    assert scratch.sweep("sandbox") == [] and scratch.sweep("forkserver") == []
    assert mine.is_dir() and other_kind.is_dir()  # a live owner's folders stay
    legacy = tmp_path / "autoresearch-sandbox-0e9d9u37"  # no pid in the name: not ours to judge
    legacy.mkdir()
    assert scratch.sweep("sandbox") == [] and legacy.is_dir()
