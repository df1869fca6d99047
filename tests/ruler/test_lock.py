"""The ruler lock: the shipped ruler verifies; one changed byte refuses, naming the file."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from ruler.gates import evaluate
from ruler.loader import DATA_DIR, load_ruler
from ruler.lock import RulerLockError, write_lock


@pytest.fixture
def ruler_copy(tmp_path):
    target = tmp_path / "planner"
    shutil.copytree(DATA_DIR / "planner", target, ignore=shutil.ignore_patterns("pool"))
    return target


def test_shipped_ruler_verifies():
    r = load_ruler()
    assert r.verify() == r.lock_hash and len(r.lock_hash) == 64
    assert len(r.cases) == 30 and set(r.splits["dev-10"]) <= set(r.splits["full-30"])


@pytest.mark.parametrize(
    "name", ["cases.jsonl", "splits.json", "rubric.toml", "prompts/rubric.standard.txt"]
)
def test_one_changed_byte_refuses_naming_the_file(ruler_copy, name):
    path = ruler_copy / name
    data = bytearray(path.read_bytes())
    data[-2] = ord("X") if data[-2] != ord("X") else ord("Y")
    path.write_bytes(bytes(data))
    with pytest.raises(RulerLockError, match=name.split("/")[-1]) as info:
        load_ruler(ruler_copy).verify()
    assert "\n" not in str(info.value)


def test_added_prompt_and_missing_lock_refuse(ruler_copy):
    (ruler_copy / "prompts" / "extra.txt").write_text("sneaky")
    with pytest.raises(RulerLockError, match="extra.txt"):
        load_ruler(ruler_copy).verify()
    (ruler_copy / "ruler.lock").unlink()
    with pytest.raises(RulerLockError, match="freeze"):
        load_ruler(ruler_copy).verify()


def test_refreezing_accepts_the_change(ruler_copy):
    (ruler_copy / "rubric.toml").write_text((ruler_copy / "rubric.toml").read_text() + "\n")
    new_hash = write_lock(ruler_copy)
    assert load_ruler(ruler_copy).verify() == new_hash != load_ruler().lock_hash


def test_evaluate_refuses_a_changed_ruler(ruler_copy):
    (ruler_copy / "splits.json").write_text((ruler_copy / "splits.json").read_text() + " ")
    with pytest.raises(RulerLockError, match="splits.json"):
        evaluate({}, "dev-10", judge=None, ruler=load_ruler(ruler_copy))


def run_cli(*args: str) -> subprocess.CompletedProcess:
    code = "from orchestrator.cli import main; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)


def test_cli_verify_passes_and_fails(ruler_copy):
    ok = run_cli("ruler", "verify")
    assert ok.returncode == 0 and ok.stdout.startswith("ok:")
    (ruler_copy / "cases.jsonl").write_bytes(
        (ruler_copy / "cases.jsonl").read_bytes().replace(b"Paris", b"Pariz", 1)
    )
    bad = run_cli("ruler", "verify", str(ruler_copy))
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: ") and "cases.jsonl" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
