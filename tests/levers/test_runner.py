"""The runner: batching across cases, stage order, firstresult, failure isolation, traces."""

from __future__ import annotations

import pytest

from levers import Lever
from levers.config import AgentConfig, LeverSpec
from levers.runner import run_agent
from models.registry import get_model
from ruler.plan import Plan
from ruler.records import Case

TASKS = [
    "plan a trip to Paris",
    "build a mobile app for tracking household chores",
    "organize a surprise 40th birthday party for my wife",
    "pay off my credit card debt",
    "learn to play the guitar",
]


def cases(n: int = 5) -> list[Case]:
    return [
        Case(id=f"c{i}", task=t, gold=Plan(title="", questions=[])) for i, t in enumerate(TASKS[:n])
    ]


@pytest.fixture
def batch_calls(monkeypatch) -> list[int]:
    """Sizes of every generate_batch call to fake:planner."""
    model = get_model("fake:planner")
    sizes: list[int] = []
    original = model.generate_batch

    def spy(batch, options):
        sizes.append(len(batch))
        return original(batch, options)

    monkeypatch.setattr(model, "generate_batch", spy)
    return sizes


def agent(*levers: LeverSpec) -> AgentConfig:
    return AgentConfig(model="fake:planner", levers=list(levers))


def test_single_call_pipeline_is_one_batch(batch_calls):
    runs = run_agent(agent(LeverSpec(name="prompt")), cases())
    assert batch_calls == [5]
    assert [r.case_id for r in runs] == ["c0", "c1", "c2", "c3", "c4"]
    assert all(len(r.parsed.plan.questions) == 7 and not r.failed for r in runs)
    assert [n.kind for n in runs[0].trace] == ["inference"]
    assert runs[0].trace[0].stage == "generate" and runs[0].trace[0].output_tokens > 0


def test_no_levers_uses_the_default_prompt(batch_calls):
    runs = run_agent(agent(), cases(2))
    assert batch_calls == [2] and all(r.parsed.usable for r in runs)


def test_multi_call_batches_per_stage(batch_calls):
    runs = run_agent(agent(LeverSpec(name="multi_call", params={"mode": "decompose"})), cases(4))
    assert batch_calls == [4, 28]  # the unknowns for all cases, then 7 questions per case
    assert all(not r.failed and len(r.parsed.plan.questions) == 7 for r in runs)


def test_a_lever_that_raises_fails_only_its_case(register_levers, batch_calls):
    class Fragile(Lever):
        name = "fragile"

        def build_messages(self, ctx):
            if "guitar" in ctx.task:
                raise ValueError("no guitars")

    register_levers(Fragile)
    runs = run_agent(agent(LeverSpec(name="fragile")), cases())
    failed = [r for r in runs if r.failed]
    assert [r.case_id for r in failed] == ["c4"]
    assert failed[0].text == "" and "build_messages: ValueError: no guitars" in failed[0].error
    assert batch_calls == [4]


def test_stages_follow_agent_order_and_skip_disabled(register_levers):
    calls: list[str] = []

    def make(name: str) -> type[Lever]:
        class Recorder(Lever):
            def prepare(self, ctx):
                calls.append(f"{self.name}.prepare")

            def generate(self, ctx):
                calls.append(f"{self.name}.generate")
                return f"Title: by {self.name}\n1. Why?"

        Recorder.name = name
        return Recorder

    register_levers(make("first"), make("second"), make("third"))
    config = agent(
        LeverSpec(name="second"), LeverSpec(name="third", enabled=False), LeverSpec(name="first")
    )
    [run] = run_agent(config, cases(1))
    assert calls == ["second.prepare", "first.prepare", "second.generate"]
    assert run.parsed.plan.title == "by second"


def test_ctx_knows_enabled_levers_and_records_python_steps(register_levers):
    seen = {}

    class Probe(Lever):
        name = "probe"

        def refine(self, ctx):
            seen["enabled"] = (ctx.enabled("probe"), ctx.enabled("rag"))
            with ctx.step("tidy"):
                ctx.draft = ctx.draft.strip()

    register_levers(Probe)
    [run] = run_agent(agent(LeverSpec(name="probe")), cases(1))
    assert seen["enabled"] == (True, False)
    assert [(n.kind, n.label, n.stage) for n in run.trace][-1] == ("python_step", "tidy", "refine")


def test_a_model_error_fails_the_cases_of_that_batch(monkeypatch):
    model = get_model("fake:planner")

    def broken(batch, options):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(model, "generate_batch", broken)
    runs = run_agent(agent(), cases(3))
    assert all(r.failed and "out of memory" in r.error for r in runs)


def test_progress_reports_each_case():
    seen: list[tuple[int, int]] = []
    run_agent(agent(), cases(3), progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
