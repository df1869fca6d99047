"""`ruler build --feature`: gold for any feature from a (mocked) Claude, the user's own gold kept
as is, bad answers retried once then reported by line, and the folder `ruler import` accepts."""

from __future__ import annotations

import json

import httpx2
import pytest
from click.testing import CliRunner

from models import get_model
from orchestrator.cli import load_commands
from ruler.build_feature import FeatureBuildError, build_feature_ruler
from ruler.loader import load_ruler
from ruler.store import STORE_ENV, import_folder
from tests.anthropic_mock import mock_model, text_response
from tests.ruler.feature_folder import CASES, FEATURE_TOML, record

GOOD = {
    "subject": "Duplicate charge on the March invoice",
    "actions": ["Refund the $40 charge", "Check the March invoice", "Confirm by email"],
}


@pytest.fixture
def feature_dir(tmp_path):
    """A feature folder as a user starts it: feature.toml only, no cases yet."""
    folder = tmp_path / "emails"
    folder.mkdir()
    (folder / "feature.toml").write_text(FEATURE_TOML, encoding="utf-8")
    return folder


def inputs_file(tmp_path, rows: list[dict]):
    path = tmp_path / "inputs.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


class Claude:
    """A mocked Messages API: answers the queued texts in order and records every body."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.bodies: list[dict] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.bodies.append(json.loads(request.content))
        return text_response(self.answers.pop(0))


def test_gold_comes_from_claude_in_the_features_schema_and_own_gold_is_kept(tmp_path, feature_dir):
    own = record(CASES[1])["gold"]
    rows = [
        {"id": "m1", "input": CASES[0][1]},
        {"id": "m2", "input": CASES[1][1], "gold": own},
        {"input": CASES[2][1], "notes": "no id: one is made"},
    ]
    third = {"subject": "Blender jar arrived cracked", "actions": ["Ship a jar", "Log it", "Reply"]}
    claude = Claude(json.dumps(GOOD), json.dumps(third))
    out = tmp_path / "built"
    report = build_feature_ruler(feature_dir, inputs_file(tmp_path, rows), mock_model(claude), out)
    assert (report.written, report.own_gold, report.asked, report.failures) == (3, 1, 2, [])
    assert len(claude.bodies) == 2  # the line with its own gold was never sent
    body = claude.bodies[0]
    schema = body["output_config"]["format"]["schema"]
    assert body["output_config"]["format"]["type"] == "json_schema"
    assert schema["required"] == ["subject", "actions"] and schema["additionalProperties"] is False
    assert "minItems: 3" in schema["properties"]["actions"]["description"]  # moved, not dropped
    assert body["messages"][0]["content"].endswith("Email:\n" + CASES[0][1])
    assert '"minItems": 3' in body["system"][0]["text"]  # the full schema in the system text
    assert body["temperature"] == 0.0
    cases = [json.loads(line) for line in (out / "cases.jsonl").read_text().splitlines()]
    assert [c["id"] for c in cases] == ["m1", "m2", "c03"]
    assert cases[0]["gold"] == GOOD and cases[1]["gold"] == own and cases[2]["gold"] == third
    assert cases[0]["notes"] == "gold by anthropic:claude-sonnet-4-6; review it"
    assert "notes" not in cases[1] and cases[2]["notes"] == "no id: one is made"
    assert (out / "feature.toml").read_text() == FEATURE_TOML
    imported = import_folder(out, tmp_path / "store")  # the folder `ruler import` accepts
    assert imported.cases == 3 and set(imported.gates) == {"dev-1", "full-3"}
    assert load_ruler(imported.path).cases["m2"].gold == own


def test_a_bad_answer_is_asked_again_once_then_reported_by_line(tmp_path, feature_dir):
    rows = [{"id": "a", "input": CASES[0][1]}, {"id": "b", "input": CASES[1][1]}]
    short = json.dumps({"subject": "Refund", "actions": ["Refund it"]})  # breaks minItems
    claude = Claude("Sure, here it is: refund!", json.dumps(GOOD), short, short)
    out = tmp_path / "built"
    report = build_feature_ruler(feature_dir, inputs_file(tmp_path, rows), mock_model(claude), out)
    assert len(claude.bodies) == 4  # a: bad then good; b: bad twice
    assert report.written == 1 and len(report.failures) == 1
    assert "inputs.jsonl:2 (b): the answer breaks [output] (at /actions:" in report.failures[0]
    assert [json.loads(x)["id"] for x in (out / "cases.jsonl").read_text().splitlines()] == ["a"]


def test_a_failing_call_is_reported_not_raised(tmp_path, feature_dir):
    def refuse(request):
        return httpx2.Response(
            400,
            json={
                "type": "error",
                "error": {"type": "invalid_request_error", "message": "schema too complex"},
            },
        )

    path = inputs_file(tmp_path, [{"input": CASES[0][1]}])
    report = build_feature_ruler(feature_dir, path, mock_model(refuse), tmp_path / "out")
    assert report.written == 0
    assert "inputs.jsonl:1 (c01): the call failed" in report.failures[0]
    assert "HTTP 400" in report.failures[0] and "schema too complex" in report.failures[0]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            '{"input": "x", "gold": {"subject": "Hi"}}',
            r"inputs.jsonl:2: your gold breaks .*at /: 'actions' is a required",
        ),
        ('{"id": "a", "input": "again"}', r"inputs.jsonl:2: id 'a' already used at line 1"),
        ('{"task": "x"}', r"inputs.jsonl:2: unknown key 'task'"),
        ("{not json", r"inputs.jsonl:2: not JSON"),
    ],
)
def test_a_bad_inputs_file_stops_before_any_call(tmp_path, feature_dir, line, message):
    path = tmp_path / "inputs.jsonl"
    path.write_text('{"id": "a", "input": "hello there"}\n' + line + "\n")
    claude = Claude()
    with pytest.raises(FeatureBuildError, match=message):
        build_feature_ruler(feature_dir, path, mock_model(claude), tmp_path / "out")
    assert claude.bodies == []


def test_the_cli_builds_from_your_own_gold_without_a_model_then_imports(
    tmp_path, feature_dir, monkeypatch
):
    monkeypatch.setenv(STORE_ENV, str(tmp_path / "store"))
    monkeypatch.chdir(tmp_path)
    path = inputs_file(tmp_path, [record(c) for c in CASES])
    cli = load_commands()
    runner = CliRunner()
    args = ["ruler", "build", "--feature", str(feature_dir), "--tasks", str(path)]
    result = runner.invoke(cli, [*args, "--out", "built"])
    assert result.exit_code == 0, result.output
    assert "wrote 5 cases to built (5 with your gold, 0 asked of no model)" in result.output
    result = runner.invoke(cli, ["ruler", "import", "built"])
    assert "imported support_triage: 5 cases" in result.output, result.output
    # by name now: lines without gold need a model, and the CLI says so
    (tmp_path / "more.jsonl").write_text('{"input": "Please cancel my order."}\n')
    more = ["ruler", "build", "--feature", "support_triage", "--tasks", "more.jsonl"]
    result = runner.invoke(cli, [*more, "--out", "next"])
    assert "more.jsonl:1: no gold, and no gold model" in str(result.exception)


def test_the_cli_reports_failures_and_exits_1(tmp_path, feature_dir):
    get_model("fake:gold").enqueue("no json", "still none", json.dumps(GOOD))
    path = inputs_file(tmp_path, [{"id": "x", "input": "one"}, {"id": "y", "input": "two"}])
    args = ["ruler", "build", "--feature", str(feature_dir), "--tasks", str(path)]
    result = CliRunner().invoke(
        load_commands(), [*args, "--gold-model", "fake:gold", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 1
    assert "wrote 1 cases" in result.output and "inputs.jsonl:1 (x): the answer breaks" in (
        result.output
    )
