"""`ruler import`, then `init --ruler` and `judge --ruler` on a feature folder a test wrote."""

from __future__ import annotations

import json
import tomllib

import pytest
from click.testing import CliRunner

from orchestrator.cli import load_commands
from ruler.loader import load_ruler
from ruler.store import STORE_ENV, RulerImportError, import_folder
from tests.ruler.feature_folder import FEATURE_TOML, write_folder


@pytest.fixture
def store(tmp_path, monkeypatch):
    path = tmp_path / "user-rulers"
    monkeypatch.setenv(STORE_ENV, str(path))
    monkeypatch.chdir(tmp_path)  # not inside a workspace: imports go to the user store
    return path


def run(*args: str):
    return CliRunner().invoke(load_commands(), list(args), catch_exceptions=False)


def test_import_validates_copies_and_locks(tmp_path, store):
    source = write_folder(tmp_path / "emails")
    result = run("ruler", "import", str(source))
    assert result.exit_code == 0, result.output
    assert (
        "imported support_triage: 5 cases, pool 2, gates dev-2 (2 cases), full-5" in result.output
    )
    copy = store / "support_triage"
    assert (copy / "pool" / "train.jsonl").is_file() and not (copy / "train.jsonl").exists()
    assert json.loads((copy / "splits.json").read_text()) == {
        "dev-2": ["e1", "e2"],
        "full-5": ["e1", "e2", "e3", "e4", "e5"],
    }
    lock = json.loads((copy / "ruler.lock").read_text())
    assert "feature.toml" in lock["files"] and "prompts/rubric.standard.txt" in lock["files"]
    ruler = load_ruler("support_triage")  # found by name in the user store
    assert ruler.path == copy and ruler.verify() == lock["hash"]
    assert len(ruler.training_pool()) == 2
    again = run("ruler", "import", str(source))
    assert "already imported support_triage" in again.output


def test_a_different_ruler_under_the_same_name_is_refused(tmp_path, store):
    import_folder(write_folder(tmp_path / "a"), store)
    changed = write_folder(tmp_path / "b", toml=FEATURE_TOML.replace("three action", "3 action"))
    with pytest.raises(RulerImportError, match="already imported .* another --name"):
        import_folder(changed, store)
    assert import_folder(changed, store, "triage_v2").path == store / "triage_v2"


def test_an_invalid_folder_is_not_imported(tmp_path, store):
    source = write_folder(tmp_path / "bad")
    with (source / "cases.jsonl").open("a") as out:
        out.write('{"id": "e6", "input": "hello", "gold": {"subject": "Hi"}}\n')
    result = CliRunner().invoke(load_commands(), ["ruler", "import", str(source)])
    message = str(result.exception)  # main() prints an AutoresearchError and exits 2
    assert "cases.jsonl:6: at /gold:" in message and "'actions' is a required" in message
    assert not (store / "support_triage").exists()


def test_init_takes_its_gates_from_the_ruler_and_carries_it(tmp_path, store):
    run("ruler", "import", str(write_folder(tmp_path / "emails")))
    result = run("init", str(tmp_path / "demo"), "--ruler", "support_triage")
    assert result.exit_code == 0, result.output
    config = tomllib.loads((tmp_path / "demo" / "autoresearch.toml").read_text())
    assert config["keep"]["gate"] == "dev-2" and config["keep"]["confirm_gate"] == "full-5"
    assert config["ruler"]["name"] == "support_triage"
    carried = tmp_path / "demo" / "rulers" / "support_triage"
    assert config["ruler"]["lock_hash"] == load_ruler(carried).verify()


def test_init_on_an_unimported_folder_imports_it_into_the_workspace(tmp_path, store):
    result = run("init", str(tmp_path / "demo"), "--ruler", str(write_folder(tmp_path / "f")))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "demo" / "rulers" / "support_triage" / "ruler.lock").is_file()
    assert not store.exists()  # nothing went to the user store


def test_status_names_a_gate_the_ruler_lacks(tmp_path, store):
    from orchestrator.preflight import ruler_problem
    from runlog.workspace import Workspace

    run("init", str(tmp_path / "demo"), "--ruler", str(write_folder(tmp_path / "f")))
    config = tmp_path / "demo" / "autoresearch.toml"
    assert ruler_problem(Workspace.open(tmp_path / "demo")) == ""
    config.write_text(config.read_text().replace('gate = "dev-2"', 'gate = "dev-10"'))
    problem = ruler_problem(Workspace.open(tmp_path / "demo"))
    assert "keep.gate 'dev-10' is not a gate of ruler 'support_triage' (dev-2, full-5)" in problem


def test_judge_ruler_fails_a_contract_breach(tmp_path, store):
    run("ruler", "import", str(write_folder(tmp_path / "emails")))
    candidate = tmp_path / "answer.json"
    candidate.write_text('{"subject": "Refund", "actions": ["Refund it"]}')
    result = run(
        "judge",
        "--ruler",
        "support_triage",
        "--case",
        "e1",
        "--candidate",
        str(candidate),
        "--json",
    )
    verdict = json.loads(result.output)
    assert verdict["scores"] == {"accuracy": 1, "grounded": 1, "distinct": 1}
    assert verdict["outcome"] == "L" and "at /actions" in verdict["rationale"]
    assert verdict["judge_id"].startswith("generic-")


@pytest.mark.slow
def test_judge_ruler_prefers_gold_to_a_degraded_answer(tmp_path, store):
    """Real MiniLM through the command line: gold ties with itself, a degraded answer loses."""
    run("ruler", "import", str(write_folder(tmp_path / "emails")))
    gold = load_ruler("support_triage").cases["e3"].gold_data
    degraded = {
        "subject": "Question about a subscription invoice",
        "actions": [gold["actions"][0], gold["actions"][0], "Offer a discount on headphones"],
    }
    scores = {}
    for name, answer in (("gold", gold), ("degraded", degraded)):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(answer))
        args = ["--ruler", "support_triage", "--case", "e3", "--candidate", str(path)]
        out = run("judge", *args, "--json")
        scores[name] = json.loads(out.output)
    assert scores["gold"]["outcome"] == "T" and scores["degraded"]["outcome"] == "L"
    for dim in ("accuracy", "grounded", "distinct"):
        assert scores["degraded"]["scores"][dim] < scores["gold"]["scores"][dim], dim
