"""The sealed holdout: nothing of the full-30-only cases but aggregates, and no gold question
of any case, reaches the researcher, whatever tools it calls."""

from __future__ import annotations

import json

import pytest

from orchestrator.loop import run_loop
from orchestrator.researchers.claude.holdout import SEALED, Holdout
from ruler.loader import load_ruler
from runlog.workspace import Workspace
from tests.orchestrator.research_mock import Script, reply, researcher, strings, submit, tool_use


@pytest.fixture
def workspace(tmp_path):
    return Workspace.init(
        tmp_path / "ws",
        model="fake:planner",
        judge="fake:judge",
        researcher="anthropic:claude-sonnet-4-6",
    ).main_root


def secrets() -> tuple[list[str], list[str]]:
    ruler = load_ruler("planner")
    dev, full = set(ruler.splits["dev-10"]), ruler.splits["full-30"]
    sealed = [ruler.cases[c].task for c in full if c not in dev]
    gold = [q for case in ruler.cases.values() for q in case.gold.questions]
    assert len(sealed) == 20 and len(gold) >= 200
    return sealed, gold


def test_no_sealed_task_and_no_gold_question_reaches_the_api(workspace):
    script = Script(
        reply(submit("Baseline", {}, lever_class="baseline")),  # runs dev-10 and full-30
        reply(
            tool_use("results"),
            tool_use("experiment", id="001"),
            tool_use("notes"),
            tool_use("read_source", path="agent/agent.toml"),
        ),
        reply(tool_use("try_agent", agent_patch={"decoding": {"temperature": 0.0}}, n=2)),
        reply(tool_use("read_source", path="../runlog/outputs/001.jsonl")),
        reply(
            submit("Few-shot helps", {"levers": [{"name": "prompt", "params": {"few_shot": 1}}]})
        ),
    )
    run_loop(workspace, experiments=2, researcher=researcher(script))
    assert len(script.bodies) == 5
    record = Workspace.open(workspace).record("001")
    assert [g.gate for g in record.gates] == ["dev-10", "full-30"]  # the holdout was judged
    sealed, gold = secrets()
    sent = " ".join(s for body in script.bodies for s in strings(body)).lower()
    leaked = [t for t in sealed if t.lower() in sent] + [q for q in gold if q.lower() in sent]
    assert leaked == []
    # and the tools did answer: per-case detail of dev-10, aggregates of full-30, the trial
    experiment = json.loads(script.tool_results(2)[1])
    assert {c["case"] for c in experiment["cases"]} <= set(load_ruler().splits["dev-10"])
    assert len(experiment["cases"]) == 10
    assert experiment["record"]["gates"][1]["gate"] == "full-30"
    assert '"scores"' in script.tool_results(3)[0]
    assert "only files under agent/" in script.tool_results(4)[0]


def test_seal_replaces_a_gold_question_however_it_is_spaced():
    ruler = load_ruler()
    holdout = Holdout.of(ruler, "dev-10", "full-30")
    question = next(iter(ruler.cases.values())).gold.questions[0]
    spaced = question.replace(" ", "  \n ", 1).upper()
    assert holdout.seal(f"the judge said: {spaced}!") == f"the judge said: {SEALED}!"
    visible = ruler.cases[ruler.splits["dev-10"][0]].task
    assert holdout.seal(visible) == visible  # a dev-10 task may be shown
