"""`autoresearch ruler show` and `autoresearch judge` (fake LLM judge; offline judge is slow)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from models import get_model
from orchestrator.cli import load_commands
from ruler.loader import load_ruler
from ruler.plan import render_plan

RUBRIC = json.dumps(
    {
        "scores": {
            "atomicity": 4,
            "specificity": 4,
            "coverage": 3,
            "naturalness": 4,
            "non_redundancy": 5,
        },
        "rationale": "ok",
    }
)


def test_ruler_show():
    result = CliRunner().invoke(load_commands(), ["ruler", "show", "--cases"])
    assert result.exit_code == 0, result.output
    assert load_ruler().lock_hash[:20] in result.output and "full-30" in result.output


@pytest.fixture
def plan_files(tmp_path):
    case = load_ruler().cases["c01"]
    gold, cand = tmp_path / "gold.json", tmp_path / "cand.txt"
    gold.write_text(render_plan(case.gold))
    # seven questions (the contract holds), the critical first one swapped for a generic one
    questions = ["What are your main goals for this?", *case.gold.questions[1:]]
    cand.write_text("Title: Paris\n" + "\n".join(f"{i}. {q}" for i, q in enumerate(questions, 1)))
    return case.task, gold, cand


def judge_args(plan_files, *extra):
    task, gold, cand = plan_files
    return ["judge", "--task", task, "--gold", str(gold), "--candidate", str(cand), *extra]


def test_judge_with_a_mocked_llm_judge(plan_files):
    fake = get_model("fake:judge")
    fake.enqueue(
        RUBRIC,
        json.dumps({"winner": "B", "rationale": "x"}),
        json.dumps({"winner": "B", "rationale": "y"}),
    )
    result = CliRunner().invoke(
        load_commands(), judge_args(plan_files, "--judge", "fake:judge", "--json")
    )
    assert result.exit_code == 0, result.output
    verdict = json.loads(result.output)
    assert verdict["outcome"] == "T" and not verdict["position_consistent"]
    assert len(fake.calls) == 3


@pytest.mark.slow
def test_judge_offline_default(plan_files):
    result = CliRunner().invoke(
        load_commands(), judge_args(plan_files, "--critical-question", "0", "--json")
    )
    assert result.exit_code == 0, result.output
    verdict = json.loads(result.output)
    assert verdict["judge_id"].startswith("embedding:") and verdict["outcome"] in "LT"
    assert verdict["scores"]["coverage"] < 5
    table = CliRunner().invoke(load_commands(), judge_args(plan_files, "--mode", "coverage-blind"))
    assert table.exit_code == 0 and "coverage" not in table.output.split("pairwise")[0].replace(
        "coverage-blind", ""
    )
