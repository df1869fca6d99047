"""Training data builders: pool only (never the ruler), stable hashes, well-formed pairs."""

from __future__ import annotations

import json
import random

import pytest

from levers.config import BASELINE_AGENT, AgentConfig, LeverSpec
from levers.training import data as data_mod
from levers.training.data import (
    DATA_FILE,
    RECIPE_FILE,
    TrainingDataError,
    agent_prompter,
    build_on_policy_pairs,
    build_sft,
    build_style_pairs,
    degrade_plan,
    load_training_pool,
    read_dataset,
    render_output,
    write_dataset,
)
from ruler.loader import load_ruler
from ruler.plan import QUESTION_COUNT, parse_plan


@pytest.fixture(scope="module")
def pool():
    return load_training_pool(limit=6)


def test_pool_never_holds_ruler_cases():
    pool = load_training_pool()
    ruler = load_ruler()
    ruler_tasks = {" ".join(c.task.lower().split()) for c in ruler.cases.values()}
    assert len(pool) >= 100
    assert not {c.id for c in pool} & set(ruler.cases)
    assert not {" ".join(c.task.lower().split()) for c in pool} & ruler_tasks


def test_pool_overlapping_the_ruler_is_refused(monkeypatch):
    leaked = next(iter(load_ruler().cases.values()))

    class FakeRuler:
        cases = {leaked.id: leaked}

        def training_pool(self):
            return [leaked]

    import ruler.loader

    monkeypatch.setattr(ruler.loader, "load_ruler", lambda *a, **k: FakeRuler())
    with pytest.raises(TrainingDataError, match="ruler cases"):
        load_training_pool()


def test_sft_rows_use_the_agent_prompt_and_gold_plan(pool):
    data = build_sft(pool, agent_prompter(BASELINE_AGENT), prompt_source="agent")
    assert len(data) == len(pool) and data.kind == "sft"
    row = data.rows[0]
    assert row["messages"][-1]["role"] == "user"
    assert pool[0].task.lower().rstrip(".") in row["messages"][-1]["content"].lower()
    assert row["completion"] == render_output(pool[0].gold, "lines")
    assert parse_plan(row["completion"]).plan == pool[0].gold
    assert data.recipe.case_ids == [c.id for c in pool]


def test_json_prompt_lever_gives_json_completions(pool):
    agent = AgentConfig(levers=[LeverSpec(name="prompt", params={"output_format": "json"})])
    data = build_sft(pool[:2], agent_prompter(agent))
    assert data.recipe.output_format == "json"
    assert json.loads(data.rows[0]["completion"]) == pool[0].gold.model_dump()


def test_rag_prompts_never_show_the_case_itself(pool):
    agent = AgentConfig(levers=[LeverSpec(name="rag", params={"k": 3}), LeverSpec(name="prompt")])
    data = build_sft(pool[:3], agent_prompter(agent))
    for case, row in zip(pool, data.rows, strict=False):
        shown = " ".join(m["content"] for m in row["messages"][:-1])
        assert case.gold.questions[0] not in shown
        assert len(row["messages"]) > 1  # other examples are still shown


def test_hashes_are_stable(pool):
    first = build_style_pairs(pool, seed=3)
    again = build_style_pairs(pool, seed=3)
    other = build_style_pairs(pool, seed=4)
    assert first.hash == again.hash and first.rows == again.rows
    assert other.hash != first.hash
    assert build_sft(pool).hash == build_sft(pool).hash


def test_style_pairs_are_well_formed(pool):
    data = build_style_pairs(pool, seed=0)
    assert data.kind == "orpo"
    for case, row in zip(pool, data.rows, strict=True):
        assert row["chosen"] == render_output(case.gold, "lines")
        assert row["rejected"] != row["chosen"]
        rejected = parse_plan(row["rejected"]).plan
        assert len(rejected.questions) == QUESTION_COUNT
        assert rejected.title == case.gold.title
    assert set(data.recipe.details["degradations"]) == {c.id for c in pool}


@pytest.mark.parametrize("seed", range(8))
def test_each_degradation_changes_the_plan(pool, seed):
    rng = random.Random(seed)
    degraded, ops = degrade_plan(pool[0].gold, rng, count=1)
    questions = degraded.questions
    assert len(questions) == QUESTION_COUNT and questions != pool[0].gold.questions
    if ops == ["duplicate"]:
        assert len(set(questions)) < QUESTION_COUNT
    if ops == ["fuse"]:
        assert any(" and " in q and q not in pool[0].gold.questions for q in questions)


def test_on_policy_pairs_skip_unusable_drafts(pool):
    gold0 = render_output(pool[0].gold, "lines")
    drafts = {pool[0].id: gold0, pool[1].id: "", pool[2].id: "1. What?\n2. Where?"}
    data = build_on_policy_pairs(pool[:4], drafts, drafts_from="fake")
    assert [r["case_id"] for r in data.rows] == [pool[2].id]
    assert data.rows[0]["rejected"] == "1. What?\n2. Where?"
    assert data.recipe.details["skipped"] == [pool[0].id, pool[1].id, pool[3].id]
    with pytest.raises(TrainingDataError):
        build_on_policy_pairs(pool[:2], {})


def test_on_policy_drafts_come_from_the_agent(pool):
    agent = BASELINE_AGENT.model_copy(update={"model": "fake:planner"})
    drafts = data_mod.generate_drafts(agent, pool[:3], progress=lambda d, t: None)
    assert set(drafts) == {c.id for c in pool[:3]}
    data = build_on_policy_pairs(pool[:3], drafts, agent_prompter(agent))
    assert len(data) == 3 and all(r["rejected"] == drafts[r["case_id"]] for r in data.rows)


def test_dataset_written_with_recipe_and_hash(pool, tmp_path):
    data = build_style_pairs(pool, seed=1)
    digest = write_dataset(data, tmp_path)
    recipe = json.loads((tmp_path / RECIPE_FILE).read_text())
    assert recipe["data_hash"] == digest == data.hash and recipe["rows"] == len(pool)
    assert len((tmp_path / DATA_FILE).read_text().splitlines()) == len(pool)
    again = read_dataset(tmp_path)
    assert again.hash == digest and again.recipe == data.recipe
