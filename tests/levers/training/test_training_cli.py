"""`autoresearch train` and `autoresearch adapters` through click's CliRunner."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from levers.adapters import adapter_store, list_adapters
from orchestrator.cli import load_commands


def run(*args: str):
    result = CliRunner().invoke(load_commands(), list(args), catch_exceptions=False)
    return result


def make_peft(path: Path, payload: bytes) -> Path:
    path.mkdir(parents=True)
    (path / "adapter_config.json").write_text("{}")
    (path / "adapter_model.safetensors").write_bytes(payload)
    return path


def test_adapters_add_list_show(tmp_path):
    empty = run("adapters", "list", "-C", str(tmp_path))
    assert empty.exit_code == 0 and "no adapters" in empty.output
    src = make_peft(tmp_path / "ext", b"ext-weights")
    added = run("adapters", "add", str(src), "--request", "req-7", "-C", str(tmp_path))
    assert added.exit_code == 0, added.output
    assert "apple:system" in added.output and "Swift" in added.output
    (record,) = list_adapters(adapter_store(tmp_path))
    assert record.request == "req-7" and record.base_model == "apple:system"
    listed = run("adapters", "list", "-C", str(tmp_path))
    assert record.hash[:12] in listed.output
    shown = run("adapters", "show", record.hash[:5], "-C", str(tmp_path))
    assert record.hash in shown.output and "req-7" in shown.output
    as_json = run("adapters", "show", record.hash[:5], "--json", "-C", str(tmp_path))
    assert '"origin": "added"' in as_json.output


def test_missing_adapter_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(load_commands(), ["adapters", "show", "beef", "-C", str(tmp_path)])
    assert result.exit_code != 0
    assert "no adapter 'beef'" in str(result.exception) and "\n" not in str(result.exception)


def test_train_refuses_apple_models(tmp_path):
    result = CliRunner().invoke(
        load_commands(), ["train", "sft", "--model", "apple:system", "-C", str(tmp_path)]
    )
    assert result.exit_code != 0 and "Apple" in str(result.exception)


@pytest.mark.slow
def test_train_sft_on_a_tiny_model(tiny_model, tmp_path):
    result = run(
        "train",
        "sft",
        "--model",
        tiny_model,
        "--steps",
        "2",
        "--batch-size",
        "2",
        "--max-length",
        "96",
        "--pool-size",
        "4",
        "-C",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.output
    assert "estimate:" in result.output and "stored at" in result.output
    (record,) = list_adapters(adapter_store(tmp_path))
    assert record.steps == 2 and record.base_model == tiny_model
    assert record.data_recipe["case_ids"] == ["t001", "t002", "t003", "t004"]
