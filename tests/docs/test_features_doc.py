"""docs/features.md cannot rot: its feature.toml is a valid feature, its commands exist, and
(slow: real MiniLM) its shell blocks run as written, in order, in a fresh folder."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.cli import load_commands
from ruler.feature import parse_feature_toml
from tests.docs.test_levers_doc import blocks

DOC = Path(__file__).resolve().parents[2] / "docs" / "features.md"
NAMED = re.compile(r"^# (\S+)\n")


def write_named_blocks(folder: Path) -> list[Path]:
    """Every TOML block whose first line names its file (`# emails/feature.toml`), saved there
    (the doc tells the reader to write it)."""
    written = []
    for _, code in blocks("toml", DOC):
        if match := NAMED.match(code):
            path = folder / match.group(1)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(code, encoding="utf-8")
            written.append(path)
    return written


def test_the_documented_feature_toml_is_a_valid_feature(tmp_path):
    (path,) = write_named_blocks(tmp_path)
    feature = parse_feature_toml(path)
    assert feature.name == "support_triage"
    assert [d.measured_by for d in feature.rubric] == ["agreement", "grounding", "redundancy"]
    assert feature.prompt_for("X").endswith("Email:\nX")


def test_every_documented_command_exists():
    cli = load_commands()
    lines = [line for _, code in blocks("sh", DOC) for line in code.splitlines()]
    commands = [shlex.split(line)[1:3] for line in lines if line.startswith("autoresearch ")]
    assert len(commands) >= 5
    for words in commands:
        command = cli.get_command(None, words[0])
        assert command is not None, words
        if hasattr(command, "get_command") and not words[1].startswith("-"):
            assert command.get_command(None, words[1]) is not None, words


@pytest.mark.slow
def test_the_five_minute_walkthrough_runs_as_written(tmp_path):
    write_named_blocks(tmp_path)
    script = "set -euo pipefail\n" + "\n".join(code for _, code in blocks("sh", DOC))
    env = os.environ | {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "AUTORESEARCH_RULERS": str(tmp_path / "user-rulers"),
        "AUTORESEARCH_HOME": str(tmp_path / "home"),
    }
    done = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "imported support_triage: 6 cases, pool 0, gates dev-2 (2 cases), full-6" in out
    assert (tmp_path / "demo" / "rulers" / "support_triage" / "ruler.lock").is_file()
    assert "L vs gold" in out  # the hand-made bad answer loses to the gold
    assert re.search(r"duplicated\s+│\s+distinct_actions\s+│\s+100%", out), out
