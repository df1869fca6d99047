"""docs/features.md cannot rot: its feature.toml is a valid feature, its commands exist, its
plugin module checks, parses and renders, its `ruler build --feature` block runs (on a mocked
Claude), and (slow: real MiniLM) its shell blocks run as written, in order, in a fresh folder."""

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


@pytest.mark.slow  # the generic judge loads MiniLM
def test_the_documented_plugin_checks_parses_and_renders(tmp_path):
    """The python block of "Writing a plugin", registered as its toml block says, on the doc's
    own feature: the check scores `subject`, the parser reads free text, the renderer a line."""
    import json
    import tomllib
    import types

    from models.plugins import pm
    from ruler.judges import get_judge
    from ruler.loader import load_ruler
    from ruler.lock import write_lock
    from ruler.plugins import render_answer
    from tests.ruler.feature_folder import write_folder

    ((_, code),) = blocks("python", DOC)
    (_, entry), *_ = [b for b in blocks("toml", DOC) if not NAMED.match(b[1])]
    points = tomllib.loads(entry)["project"]["entry-points"]["autoresearch"]
    module_name = NAMED.match(code).group(1).removesuffix(".py")
    assert points == {module_name: module_name}
    module = types.ModuleType(module_name)
    exec(compile(code, f"docs/features.md:{module_name}", "exec"), module.__dict__)
    (feature_toml,) = write_named_blocks(tmp_path)
    folder = write_folder(tmp_path / "triage", toml=feature_toml.read_text())
    write_lock(folder)
    ruler = load_ruler(folder)
    pm.register(module, name=module_name)
    try:
        judge = get_judge("embedding", ruler=ruler)
        case = ruler.cases["e1"]
        wordy = dict(
            case.gold_data,
            subject="Customer was charged twice for the March invoice and wants a refund",
        )
        verdict = judge.judge(case, json.dumps(wordy))
        assert verdict.scores["subject"] == 1 and "a subject has at most 8" in verdict.rationale
        free = "Subject: Duplicate charge on the March invoice\n" + "".join(
            f"- {a}\n" for a in case.gold_data["actions"]
        )
        assert judge.judge(case, free).scores == {k: 5 for k in ruler.feature.dimension_names}
        line = render_answer("support_triage", case.gold_data)
        assert line.startswith("Duplicate charge on the March invoice: Refund the duplicate")
    finally:
        pm.unregister(name=module_name)


def test_the_documented_ruler_build_runs_on_a_mocked_claude(tmp_path, monkeypatch):
    """The console block of `ruler build --feature`, as written, on the doc's inputs.jsonl, with
    Claude answered by httpx2.MockTransport (never a live call)."""
    import json

    import httpx2
    from click.testing import CliRunner

    import orchestrator.cli.ruler_cmd as ruler_cmd
    from tests.anthropic_mock import mock_model, text_response

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUTORESEARCH_RULERS", str(tmp_path / "user-rulers"))
    write_named_blocks(tmp_path)
    ((_, inputs),) = blocks("jsonl", DOC)
    (tmp_path / "inputs.jsonl").write_text(inputs, encoding="utf-8")
    asked = []

    def claude(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        asked.append(body["messages"][0]["content"])
        gold = {"subject": "A question about an order", "actions": ["Look", "Answer", "Close"]}
        return text_response(json.dumps(gold), model=body["model"])

    monkeypatch.setattr(ruler_cmd, "get_model", lambda spec: mock_model(claude, spec[10:]))
    ((_, console),) = blocks("console", DOC)
    outputs = []
    for command in console.replace("\\\n", " ").splitlines():
        words = shlex.split(command)
        assert words[0] == "autoresearch"
        result = CliRunner().invoke(load_commands(), words[1:], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    assert len(asked) == 2 and "Where is my parcel?" in asked[0]  # n1 has its own gold
    assert "wrote 3 cases to emails-v2 (1 with your gold, 2 asked of anthropic:" in outputs[0]
    assert "imported support_triage_v2: 3 cases" in outputs[1]
