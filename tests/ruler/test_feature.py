"""Feature folders: loading (errors name file:line and the JSON pointer), the planner as a
feature (its ruler hash unchanged), the lock over a feature folder."""

from __future__ import annotations

import json

import pytest

from ruler.feature import FeatureError, default_splits, load_feature, read_feature_folder
from ruler.loader import RulerError, load_ruler
from ruler.lock import RulerLockError, verify_lock, write_lock
from tests.ruler.feature_folder import CASES, FEATURE_TOML, record, write_folder

PLANNER_HASH = "18bbe465bcb5473af052b10e19ef43e7c213c61ca89a85dcc0f7c6af73604296"


def test_a_folder_loads_with_default_splits(tmp_path):
    folder = read_feature_folder(write_folder(tmp_path / "f"))
    feature = folder.feature
    assert feature.name == "support_triage" and feature.input_label == "email"
    assert feature.dimension_names == ("accuracy", "grounded", "distinct")
    assert [d.measured_by for d in feature.rubric] == ["agreement", "grounding", "redundancy"]
    assert folder.splits == {"dev-2": ["e1", "e2"], "full-5": ["e1", "e2", "e3", "e4", "e5"]}
    assert len(folder.pool) == 2
    prompt = feature.prompt_for("my order is late")
    assert prompt.endswith("Email:\nmy order is late") and '{"subject": "...",' in prompt


def test_default_splits_are_a_third_and_all():
    ids = [f"c{i}" for i in range(30)]
    assert {k: len(v) for k, v in default_splits(ids).items()} == {"dev-10": 10, "full-30": 30}
    assert list(default_splits(["a"])) == ["dev-1", "full-1"]


def test_gold_outside_the_schema_names_file_line_and_pointer(tmp_path):
    rows = [record(r) for r in CASES]
    rows[1]["gold"]["actions"] = rows[1]["gold"]["actions"][:2]
    path = write_folder(tmp_path / "f", cases=rows)
    with pytest.raises(FeatureError) as err:
        load_feature(path)
    message = str(err.value)
    assert f"{path / 'cases.jsonl'}:2:" in message
    assert "at /gold/actions" in message and "too short" in message and "[output]" in message


def test_duplicate_ids_name_both_lines(tmp_path):
    rows = [record(r) for r in CASES]
    rows[3]["id"] = "e1"
    with pytest.raises(FeatureError, match=r"cases.jsonl:4: id 'e1' already used at line 1"):
        load_feature(write_folder(tmp_path / "f", cases=rows))


def test_a_line_that_is_not_json_is_named(tmp_path):
    path = write_folder(tmp_path / "f")
    with (path / "cases.jsonl").open("a") as out:
        out.write("{not json\n")
    with pytest.raises(FeatureError, match=r"cases.jsonl:6: not JSON"):
        load_feature(path)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda t: t.replace("{input}", "the email"), "lacks {input}"),
        (lambda t: t.replace('signal = "grounding"', 'signal = "vibes"'), "unknown signal 'vibes'"),
        (lambda t: t.replace('field = "subject"', 'field = "subjekt"'), "'subjekt' is not in"),
        (lambda t: t.replace('name = "distinct"', 'name = "accuracy"'), "appears twice"),
        (lambda t: t.replace('type = "array"', 'type = "arrray"'), "not a valid JSON Schema"),
        (lambda t: t.replace('name = "support_triage"', 'name = "Support"'), "[a-z0-9_]+"),
        (lambda t: t.replace("[output]", "[outputs]"), "unknown key 'outputs'"),
        (lambda t: t.replace('name = "support_triage"\n', ""), "missing name"),
    ],
)
def test_feature_toml_problems_are_named(tmp_path, change, expected):
    path = write_folder(tmp_path / "f", toml=change(FEATURE_TOML))
    with pytest.raises(FeatureError) as err:
        load_feature(path)
    assert str(path / "feature.toml") in str(err.value) and expected in str(err.value)


def test_pool_must_not_share_ids_or_inputs_with_the_cases(tmp_path):
    path = write_folder(tmp_path / "f")
    leaked = record(CASES[2]) | {"id": "t9"}
    with (path / "train.jsonl").open("a") as out:
        out.write(json.dumps(leaked) + "\n")
    with pytest.raises(FeatureError, match="repeats a case's input"):
        load_feature(path)


def test_splits_must_name_known_cases(tmp_path):
    path = write_folder(tmp_path / "f")
    (path / "splits.json").write_text(json.dumps({"dev-2": ["e1", "e9"]}))
    with pytest.raises(FeatureError, match=r"splits.json: gate 'dev-2' names unknown case 'e9'"):
        load_feature(path)


def test_degraded_rows_are_checked(tmp_path):
    path = write_folder(tmp_path / "f")
    row = {"case": "e1", "variant": "x", "dimension": "tone", "answer": {}}
    (path / "degraded.jsonl").write_text(json.dumps(row) + "\n")
    with pytest.raises(FeatureError, match=r"degraded.jsonl:1: unknown dimension 'tone'"):
        load_feature(path)


def test_a_feature_folder_is_a_ruler_with_input_as_task(tmp_path):
    path = write_folder(tmp_path / "f")
    ruler = load_ruler(path)
    assert not ruler.is_planner and ruler.feature.name == "support_triage"
    case = ruler.cases["e3"]
    assert case.task.startswith("The blender") and case.gold_data["actions"][0].startswith("Ship")
    assert ruler.default_gates() == ("dev-2", "full-5")
    assert list(ruler.rubric.dimensions) == ["accuracy", "grounded", "distinct"]


def test_a_broken_feature_folder_is_a_ruler_error(tmp_path):
    path = write_folder(tmp_path / "f", toml=FEATURE_TOML.replace("{input}", "x"))
    with pytest.raises(RulerError, match="lacks {input}"):
        load_ruler(path)


def test_the_lock_covers_feature_toml(tmp_path):
    path = write_folder(tmp_path / "f")
    digest = write_lock(path)
    assert json.loads((path / "ruler.lock").read_text())["files"].keys() == {
        "cases.jsonl",
        "feature.toml",
    }
    assert verify_lock(path) == digest
    (path / "feature.toml").write_text(FEATURE_TOML.replace("three action", "3 action"))
    with pytest.raises(RulerLockError, match="feature.toml: changed since"):
        verify_lock(path)


def test_the_planner_is_a_feature_and_its_hash_is_unchanged():
    ruler = load_ruler("planner")
    assert ruler.is_planner and ruler.verify() == PLANNER_HASH
    feature = ruler.feature
    assert feature.dimension_names == (
        "atomicity",
        "specificity",
        "coverage",
        "naturalness",
        "non_redundancy",
    )
    assert feature.prompt_for("plan a trip to Paris").startswith("I want to plan a trip to Paris.")
    assert feature.output_schema["properties"]["questions"]["minItems"] == 7
    assert ruler.default_gates() == ("dev-10", "full-30")
    assert feature.spec()["rubric"][0]["score_5"].startswith("Every question asks exactly one")


def test_the_planner_rubric_renders_as_before():
    rendered = load_ruler("planner").rubric.render("coverage-blind")
    assert rendered.startswith("- atomicity (Atomicity):") and "coverage" not in rendered
