"""The sandbox module itself: the allow-list it draws, and Landlock applied for real in a child
process (a denied read raises PermissionError; the same read works with the sandbox off)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from levers import sandbox
from levers.sandbox import SandboxPolicy, policy_for, sandboxed_command
from ruler.loader import DATA_DIR

pytestmark = pytest.mark.skipif(sandbox.landlock_abi() < 1, reason="needs Landlock (Linux)")


def test_the_pool_is_readable_and_the_gold_is_not(tmp_path):
    policy = policy_for(tmp_path)
    assert policy.readable(DATA_DIR / "planner" / "pool" / "train.jsonl")
    for hidden in ("cases.jsonl", "splits.json", "rubric.toml"):
        assert not policy.readable(DATA_DIR / "planner" / hidden), hidden
    assert policy.readable(Path(sandbox.__file__))  # the project's code
    assert policy.readable(Path(os.__file__))  # the standard library
    assert policy.readable(tmp_path / "anything")  # its scratch
    assert not policy.readable(Path.home() / ".ssh" / "id_rsa")


def test_a_workspace_shows_its_agent_and_hides_its_record(tmp_path):
    ws = tmp_path / "ws"
    for name in ("agent/levers", "runlog", ".autoresearch/adapters/abc", ".autoresearch/cache"):
        (ws / name).mkdir(parents=True)
    (ws / "autoresearch.toml").write_text("")
    policy = policy_for(tmp_path / "scratch", agent_dir=ws / "agent", workspace=ws)
    assert policy.readable(ws / "agent" / "levers" / "mine.py")
    assert policy.readable(ws / ".autoresearch" / "adapters" / "abc" / "adapter.bin")
    for hidden in ("runlog/results.tsv", ".autoresearch/cache/verdicts.key", "autoresearch.toml"):
        assert not policy.readable(ws / hidden), hidden


def test_a_hidden_folder_inside_a_readable_tree_is_cut_out_by_its_siblings(tmp_path):
    (tmp_path / "a" / "secret").mkdir(parents=True)
    (tmp_path / "a" / "open").mkdir()
    (tmp_path / "a" / "note.txt").write_text("x")
    policy = SandboxPolicy(read=(str(tmp_path),), write=(), hidden=(str(tmp_path / "a/secret"),))
    rules = dict(policy.landlock_rules())
    assert str(tmp_path / "a" / "open") in rules and str(tmp_path / "a" / "note.txt") in rules
    assert not any(path.startswith(str(tmp_path / "a" / "secret")) for path in rules)
    assert str(tmp_path) not in rules  # the tree itself would include the secret


def test_a_link_into_a_hidden_folder_is_not_allowed(tmp_path):
    (tmp_path / "secret").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "secret")
    policy = SandboxPolicy(read=(str(tmp_path),), write=(), hidden=(str(tmp_path / "secret"),))
    assert not policy.readable(tmp_path / "link" / "x")
    assert all("secret" not in path for path, _ in policy.landlock_rules())


PROBE = """
import json, socket, sys
from levers.sandbox import enter
print("applied", enter(), file=sys.stderr)
found = {}
for name, path in json.loads(sys.argv[1]).items():
    try:
        open(path).read(1)
        found[name] = "read"
    except PermissionError:
        found[name] = "denied"
try:
    socket.create_connection(("127.0.0.1", 9), timeout=1)
    found["tcp"] = "connected"
except PermissionError:
    found["tcp"] = "denied"
except OSError:
    found["tcp"] = "allowed (refused)"
print(json.dumps(found))
"""


def probe(tmp_path: Path) -> dict[str, str]:
    secret = tmp_path / "home" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("s")
    paths = {
        "gold": str(DATA_DIR / "planner" / "cases.jsonl"),
        "pool": str(DATA_DIR / "planner" / "pool" / "train.jsonl"),
        "elsewhere": str(secret),
    }
    wrapped = sandboxed_command(
        [sys.executable, "-c", PROBE, json.dumps(paths)], dict(os.environ), third_party=True
    )
    try:
        done = subprocess.run(
            wrapped.argv,
            env=wrapped.env,
            capture_output=True,
            text=True,
            check=True,
            cwd=wrapped.scratch,
        )
    finally:
        wrapped.cleanup()
    return json.loads(done.stdout)


def test_landlock_denies_the_gold_allows_the_pool_and_blocks_tcp(tmp_path):
    found = probe(tmp_path)
    assert found["gold"] == "denied" and found["elsewhere"] == "denied"
    assert found["pool"] == "read"
    if sandbox.landlock_abi() >= 4:
        assert found["tcp"] == "denied"


def test_switched_off_the_same_reads_work(tmp_path, monkeypatch):
    monkeypatch.setenv(sandbox.UNSANDBOXED_ENV, "1")
    found = probe(tmp_path)
    assert found["gold"] == "read" and found["elsewhere"] == "read"


def test_a_lever_process_started_without_a_policy_refuses_to_run():
    env = {k: v for k, v in os.environ.items() if k != sandbox.POLICY_ENV}
    done = subprocess.run(
        [sys.executable, "-m", "levers.worker"], env=env, input="", capture_output=True, text=True
    )
    assert done.returncode != 0 and "without a sandbox policy" in done.stderr


def test_without_any_sandbox_third_party_code_needs_the_flag(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "landlock_abi", lambda: 0)
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    with pytest.raises(sandbox.SandboxError, match="--unsandboxed"):
        sandboxed_command(["true"], {}, third_party=True)
    assert sandboxed_command(["true"], {}, third_party=False).kind == "unsandboxed"
    monkeypatch.setenv(sandbox.UNSANDBOXED_ENV, "1")
    assert sandboxed_command(["true"], {}, third_party=True).kind == "unsandboxed"
    assert sandbox.describe() == "unsandboxed (--unsandboxed)"


def test_bubblewrap_and_seatbelt_get_the_same_lists(tmp_path):
    policy = policy_for(tmp_path)
    args = sandbox.bwrap_args(policy)
    assert args[:2] == ["bwrap", "--unshare-all"] and str(tmp_path) in args
    assert not any(str(DATA_DIR / "planner" / "cases.jsonl") == a for a in args)
    profile = sandbox.seatbelt_profile(policy)
    assert "(deny default)" in profile and f'(deny file-read* (subpath "{DATA_DIR}")' in profile


def test_an_editable_lever_package_is_readable_where_its_import_hook_points(tmp_path, monkeypatch):
    import importlib.machinery
    import importlib.metadata
    import importlib.util

    source = tmp_path / "src" / "my_levers.py"  # not on the import path: an editable mapping
    source.parent.mkdir()
    source.write_text("")
    point = importlib.metadata.EntryPoint("mine", "my_levers", "autoresearch")
    spec = importlib.machinery.ModuleSpec("my_levers", None, origin=str(source))
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: [point])
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: spec)
    assert policy_for(tmp_path / "scratch").readable(source)
