"""Model specs, the registry's caching and errors, and `autoresearch models list`."""

from __future__ import annotations

import json
import sys

import pytest
from click.testing import CliRunner

from models import ModelError, available_models, get_model, parse_spec
from models.registry import backends, forget_models
from orchestrator.cli import load_commands, main


def test_every_builtin_backend_is_registered():
    assert {"fake", "local", "anthropic", "apple"} <= set(backends())


def test_parse_spec_splits_backend_and_name():
    assert parse_spec("local:smollm2-135m") == ("local", "smollm2-135m")
    assert parse_spec("local:hf:/models/x") == ("local", "hf:/models/x")


@pytest.mark.parametrize("spec", ["smollm2", ":x", "local:", ""])
def test_bad_spec_format_is_a_one_line_error(spec):
    with pytest.raises(ModelError, match="is not 'backend:name'") as info:
        get_model(spec)
    assert "\n" not in str(info.value)


def test_unknown_backend_lists_the_known_specs():
    with pytest.raises(ModelError) as info:
        get_model("nope:x")
    text = str(info.value)
    assert "\n" not in text and "'nope'" in text
    for spec in (
        "fake:planner",
        "local:smollm2-135m",
        "anthropic:claude-sonnet-4-6",
        "apple:system",
    ):
        assert spec in text


def test_unknown_model_in_a_known_backend():
    with pytest.raises(ModelError, match="known: local:smollm2-135m"):
        get_model("local:nope")


def test_get_model_returns_one_instance_per_spec_until_forgotten():
    first = get_model("fake:planner")
    assert get_model("fake:planner") is first
    assert get_model("fake:echo") is not first
    forget_models()
    assert get_model("fake:planner") is not first


def test_available_models_marks_what_this_machine_lacks(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    infos = {info.spec: info for info in available_models()}
    assert infos["fake:planner"].available
    assert not infos["anthropic:claude-sonnet-4-6"].available
    assert infos["anthropic:claude-sonnet-4-6"].reason == "set ANTHROPIC_API_KEY"
    if sys.platform != "darwin":
        assert not infos["apple:system"].available and infos["apple:system"].reason


def test_models_list_json_via_the_cli(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    result = CliRunner().invoke(load_commands(), ["models", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["spec"]: row for row in json.loads(result.output)}
    assert {"fake:planner", "local:smollm2-135m", "anthropic:claude-haiku-4-5"} <= set(rows)
    assert rows["anthropic:claude-haiku-4-5"]["available"] is False
    assert set(rows["apple:system"]) == {"spec", "backend", "description", "available", "reason"}


def test_models_list_table_via_the_cli():
    result = CliRunner().invoke(load_commands(), ["models", "list"])
    assert result.exit_code == 0, result.output
    assert "spec" in result.output and "fake:planner" in result.output


def test_a_model_error_reaches_the_user_as_one_line(monkeypatch, capsys):
    load_commands()
    monkeypatch.setattr(sys, "argv", ["autoresearch", "plan", "a trip", "--model", "nope:x"])
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "nope" in err
