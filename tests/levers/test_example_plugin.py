"""The example third-party lever: pip-installed, seen by `autoresearch levers`, used in a run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # pip-installs the example into the venv; the CLI in subprocesses

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "lever-plugin"
AUTORESEARCH = [sys.executable, "-c", "from orchestrator.cli import main; main()"]


def _pip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pip", *args], capture_output=True, text=True, timeout=180
    )


@pytest.fixture(scope="module")
def installed_example():
    done = _pip("install", "-q", "--no-deps", "--no-build-isolation", "-e", str(EXAMPLE))
    assert done.returncode == 0, done.stderr
    yield
    _pip("uninstall", "-y", "-q", "autoresearch-lever-tidy")
    for leftover in EXAMPLE.glob("*.egg-info"):
        shutil.rmtree(leftover, ignore_errors=True)
    shutil.rmtree(EXAMPLE / "build", ignore_errors=True)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "AUTORESEARCH_LOAD_PLUGINS"}
    return subprocess.run(
        [*AUTORESEARCH, *args], capture_output=True, text=True, timeout=120, cwd=cwd, env=env
    )


def test_example_lever_is_listed_and_runs(installed_example, tmp_path):
    listed = _cli("levers", "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert rows["tidy_questions"]["source"] == "entry point"
    assert rows["tidy_questions"]["lever_class"] == "other"
    assert {"prompt", "decoding", "rag", "multi_call", "self_critique", "adapter"} <= set(rows)

    agent = tmp_path / "agent.toml"
    agent.write_text(
        'model = "fake:planner"\n[[levers]]\nname = "prompt"\n'
        '[[levers]]\nname = "tidy_questions"\n[levers.params]\nmax_words = 20\n'
    )
    planned = _cli("plan", "plan a trip to Paris", "--agent", str(agent), "--json", cwd=tmp_path)
    assert planned.returncode == 0, planned.stderr
    out = json.loads(planned.stdout)
    assert len(out["questions"]) == 7
    assert [n["label"] for n in out["trace"]] == ["generate", "tidy questions"]


def test_allow_list_hides_the_example(installed_example, tmp_path):
    env_cmd = [*AUTORESEARCH, "levers", "--json"]
    env = {**os.environ, "AUTORESEARCH_LOAD_PLUGINS": ""}
    done = subprocess.run(env_cmd, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert "tidy_questions" not in {row["name"] for row in json.loads(done.stdout)}
