"""`ruler build` with a fake gold model, then `ruler freeze`, then the new ruler evaluates."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from models import get_model
from orchestrator.cli import load_commands
from ruler.build import RulerBuildError, build_ruler, default_splits
from ruler.loader import load_ruler

TASKS = ["plan a kayak trip", "learn to bake sourdough", "set up a home office"]


def gold(task: str) -> str:
    questions = [f"Question {i} about {task}, specifically?" for i in range(7)]
    return json.dumps(
        {"title": task.title(), "questions": questions, "critical": "when", "critical_question": 2}
    )


def test_build_and_freeze_with_the_cli(tmp_path):
    tasks = tmp_path / "tasks.txt"
    tasks.write_text("\n".join(TASKS) + "\n")
    get_model("fake:gold").enqueue(*(gold(t) for t in TASKS))
    out = tmp_path / "myruler"
    cli = load_commands()
    result = CliRunner().invoke(
        cli,
        ["ruler", "build", "--tasks", str(tasks), "--gold-model", "fake:gold", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} >= {
        "cases.jsonl",
        "splits.json",
        "rubric.toml",
        "prompts",
    }
    result = CliRunner().invoke(cli, ["ruler", "freeze", str(out)])
    assert result.exit_code == 0, result.output
    ruler = load_ruler(out)
    assert ruler.verify() == ruler.lock_hash
    assert [c.task for c in ruler.cases.values()] == TASKS
    assert ruler.cases["c01"].critical_question == 2 and len(ruler.cases["c01"].gold.questions) == 7
    assert set(ruler.splits) == {"dev-3", "full-3"}


def test_build_retries_then_fails_on_a_bad_gold(tmp_path):
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(json.dumps({"id": "x1", "task": "paint the fence"}) + "\n")
    model = get_model("fake:gold")
    model.enqueue("no plan here", "1. Only one question?")
    with pytest.raises(RulerBuildError, match="x1"):
        build_ruler(tasks, model, tmp_path / "r")
    assert len(model.calls) == 2


def test_default_splits_nest():
    ids = [f"c{i:02d}" for i in range(1, 31)]
    splits = default_splits(ids)
    assert len(splits["dev-10"]) == 10 and set(splits["dev-10"]) <= set(splits["full-30"])


def test_the_planner_build_refuses_a_gold_it_would_ignore(tmp_path):
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(json.dumps({"task": "paint the fence", "gold": {"title": "Fence"}}) + "\n")
    model = get_model("fake:gold")
    with pytest.raises(RulerBuildError, match=r"tasks.jsonl:1: .* would ignore .* --feature DIR"):
        build_ruler(tasks, model, tmp_path / "r")
    assert model.calls == []
