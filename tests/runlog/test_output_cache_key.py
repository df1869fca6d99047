"""The candidate output cache keys on everything that runs: an installed lever package's code,
not only the workspace's files; `--no-cache` and `[cache] outputs = false` bypass it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runlog.evaluate import agent_tree_hash, evaluate_workspace
from runlog.workspace import Workspace
from tests.runlog.conftest import ParseJudge, set_agent

PACKAGE = '''
from pydantic import BaseModel, ConfigDict

from levers import Lever, hookimpl
from tinylever.words import SUFFIX


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Sign(Lever):
    """Append a word to the draft."""

    name = "tiny_sign"
    lever_class = "other"
    Params = Params

    def finalize(self, ctx):
        ctx.draft = ctx.draft.rstrip() + "\\n" + SUFFIX


@hookimpl
def register_levers(register):
    register(Sign)
'''


def installed_package(site: Path, suffix: str) -> Path:
    """A distribution on the import path whose `autoresearch` entry point is `tinylever`; the
    word it appends lives in a submodule (`tinylever/words.py`), returned for editing."""
    package = site / "tinylever"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(PACKAGE)
    (package / "words.py").write_text(f"SUFFIX = {suffix!r}\n")
    info = site / "tinylever-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tinylever\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[autoresearch]\ntinylever = tinylever\n")
    return package / "words.py"


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch, ws: Workspace) -> Path:
    words = installed_package(tmp_path / "site", "first-edition")
    monkeypatch.setenv(
        "PYTHONPATH", f"{tmp_path / 'site'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"
    )
    monkeypatch.delenv("AUTORESEARCH_LOAD_PLUGINS", raising=False)
    set_agent(ws, "signed agent", extra='\n[[levers]]\nname = "tiny_sign"\n')
    return words


def test_editing_an_installed_lever_package_changes_the_next_outputs(ws, tiny):
    judge = ParseJudge()
    first = evaluate_workspace(ws, gate="dev-10", judge=judge)
    assert all(r.text.endswith("first-edition") for r in first.runs), first.runs[0].text
    tree = agent_tree_hash(ws)
    again = evaluate_workspace(ws, gate="dev-10", judge=judge)
    assert again.cached_cases == 10 and again.model_calls == 0  # unchanged code: cached

    tiny.write_text("SUFFIX = 'second-edition'\n")  # the package's code, outside the workspace
    edited = evaluate_workspace(ws, gate="dev-10", judge=judge)
    assert agent_tree_hash(ws) == tree  # the workspace's files did not change
    assert edited.cached_cases == 0 and edited.model_calls == 10
    assert all(r.text.endswith("second-edition") for r in edited.runs)
    assert edited.extra["fingerprint"] != first.extra["fingerprint"]


def test_no_cache_runs_every_case_again(ws: Workspace) -> None:
    judge = ParseJudge()
    evaluate_workspace(ws, gate="dev-10", judge=judge)
    assert evaluate_workspace(ws, gate="dev-10", judge=judge).cached_cases == 10
    fresh = evaluate_workspace(ws, gate="dev-10", judge=judge, no_cache=True)
    assert fresh.cached_cases == 0 and fresh.model_calls == 10


def test_the_cache_setting_turns_output_reuse_off(ws: Workspace) -> None:
    judge = ParseJudge()
    evaluate_workspace(ws, gate="dev-10", judge=judge)
    settings = ws.root / "autoresearch.toml"
    text = settings.read_text()
    assert "[cache]\noutputs = true" in text  # written by init, so users see the setting
    settings.write_text(text.replace("[cache]\noutputs = true", "[cache]\noutputs = false"))
    reopened = Workspace.open(ws.root)
    assert reopened.config.cache.outputs is False
    assert evaluate_workspace(reopened, gate="dev-10", judge=judge).cached_cases == 0


def test_the_key_names_the_weights_and_the_project_version(ws: Workspace) -> None:
    from levers.sources import project_version, weights_id

    assert weights_id("fake:planner") == "fake:planner"
    assert weights_id("local:smollm2-135m").startswith("local:smollm2-135m ")
    assert project_version() != ""
    first = evaluate_workspace(ws, gate="dev-10", judge=ParseJudge())
    other = evaluate_workspace(ws, gate="dev-10", judge=ParseJudge(), model="fake:echo")
    assert first.extra["fingerprint"] != other.extra["fingerprint"]


def test_eval_no_cache_on_the_command_line(ws: Workspace) -> None:
    import json

    from click.testing import CliRunner

    from orchestrator.cli import load_commands

    args = ["eval", "-C", str(ws.root), "--gate", "dev-10", "--judge", "fake:judge", "--json"]
    runner = CliRunner()
    first = runner.invoke(load_commands(), args, catch_exceptions=False)
    again = runner.invoke(load_commands(), args, catch_exceptions=False)
    fresh = runner.invoke(load_commands(), [*args, "--no-cache"], catch_exceptions=False)
    assert json.loads(first.output)["cached_cases"] == 0
    assert json.loads(again.output)["cached_cases"] == 10
    assert json.loads(fresh.output)["cached_cases"] == 0, fresh.output
