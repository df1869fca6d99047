"""One test per built-in lever on the fake model (fake:planner)."""

from __future__ import annotations

import json

import pytest

from levers.adapters import AdapterError
from levers.builtin.multi_call import first_question, prune
from levers.config import AgentConfig, LeverSpec
from levers.pool import training_pool
from levers.runner import run_agent
from models.registry import get_model
from ruler.loader import load_ruler

RULER_TASKS = {case.task for case in load_ruler().cases.values()}


def dev_cases(n: int = 3):
    return load_ruler().gate_cases("dev-10")[:n]


def run(*levers: LeverSpec, n: int = 3, workspace=None):
    config = AgentConfig(model="fake:planner", levers=list(levers))
    return run_agent(config, dev_cases(n), workspace=workspace)


def prompts() -> list[list]:
    return get_model("fake:planner").calls


def test_prompt_variants_change_the_prompt():
    texts = {}
    for instructions in ("plain", "rubric", "critical-first"):
        get_model("fake:planner").calls.clear()
        [r] = run(LeverSpec(name="prompt", params={"instructions": instructions}), n=1)
        assert not r.failed and len(r.parsed.plan.questions) == 7
        texts[instructions] = prompts()[0][-1].content
    assert len(set(texts.values())) == 3
    assert "exactly one thing" in texts["rubric"]


def test_prompt_json_format_system_text_and_few_shot_from_training_pool():
    params = {"output_format": "json", "system": "planner", "few_shot": 3}
    [r] = run(LeverSpec(name="prompt", params=params), n=1)
    messages = prompts()[0]
    assert messages[0].role == "system" and "discovery planner" in messages[0].content
    assert [m.role for m in messages[1:]] == ["user", "assistant"] * 3 + ["user"]
    shown = [json.loads(m.content)["title"] for m in messages if m.role == "assistant"]
    pool_titles = {c.gold.title for c in training_pool()}
    assert set(shown) <= pool_titles
    assert not any(m.content.split(". Before")[0][10:] in RULER_TASKS for m in messages[1:-1])
    assert r.parsed.plan.questions and "from_numbered_list" not in r.parsed.problems


def test_prompt_custom_system_text_and_stop_after_seven():
    [r] = run(LeverSpec(name="prompt", params={"system": "Be kind."}), n=1)
    assert prompts()[0][0].content == "Be kind."
    assert not r.failed


def test_decoding_overrides_options(monkeypatch):
    seen = []
    model = get_model("fake:planner")
    original = model.generate_batch
    monkeypatch.setattr(model, "generate_batch", lambda b, o: seen.append(o) or original(b, o))
    params = {"temperature": 0.7, "top_p": 0.9, "repetition_penalty": 1.1, "max_tokens": 123}
    runs = run(LeverSpec(name="decoding", params={**params, "seed": 5}))
    assert all(not r.failed for r in runs)
    assert len(seen) == 1
    assert (seen[0].temperature, seen[0].top_p, seen[0].max_tokens, seen[0].seed) == (
        0.7,
        0.9,
        123,
        5,
    )


@pytest.mark.parametrize("method", ["embedding", "bm25", "hybrid"])
def test_rag_shows_nearest_training_cases(method):
    runs = run(LeverSpec(name="rag", params={"k": 2, "method": method}), n=2)
    assert all(not r.failed for r in runs)
    assert runs[0].trace[0].kind == "python_step" and runs[0].trace[0].stage == "prepare"
    first_prompt = prompts()[0]
    assert [m.role for m in first_prompt] == ["user", "assistant", "user", "assistant", "user"]
    example_tasks = [m.content for m in first_prompt[:-1] if m.role == "user"]
    assert all("Paris" not in t for t in example_tasks)  # c01 itself is never an example


def test_rag_bm25_finds_word_overlap():
    from levers.builtin.rag import rank_pool

    pool = training_pool()
    best = pool[rank_pool("plan a ski trip to colorado", "bm25")[0]]
    assert "ski" in best.task.lower()


def test_multi_call_decompose_writes_one_question_per_unknown():
    runs = run(LeverSpec(name="multi_call", params={"mode": "decompose"}))
    trace = runs[0].trace
    assert [n.label for n in trace] == ["list unknowns"] + ["one question each"] * 7
    plan = json.loads(runs[0].text)
    assert len(plan["questions"]) == 7 and all(q.endswith("?") for q in plan["questions"])


def test_multi_call_overgenerate_prunes_to_seven():
    model = get_model("fake:q")
    listing = "Title: Paris\n" + "\n".join(
        f"{i}. What about the Paris {w}?"
        for i, w in enumerate(
            [
                "dates",
                "budget",
                "hotel",
                "budget",
                "food",
                "museums",
                "flights",
                "hotel",
                "kids",
                "weather",
            ],
            1,
        )
    )
    model.enqueue(listing)
    config = AgentConfig(
        model="fake:q",
        levers=[LeverSpec(name="multi_call", params={"mode": "overgenerate", "n": 10})],
    )
    [r] = run_agent(config, dev_cases(1))
    assert [n.kind for n in r.trace] == ["inference", "python_step"]
    assert r.trace[1].label == "prune 10 to 7"
    questions = r.parsed.plan.questions
    assert len(questions) == 7 and len(set(questions)) == 7


def test_prune_skips_near_duplicates_and_first_question_extracts():
    qs = ["What is your budget?", "What is your budget?", "When do you travel to Paris?"]
    assert prune("trip to Paris", qs, 2, 0.8) == [
        "What is your budget?",
        "When do you travel to Paris?",
    ]
    assert first_question("Sure!\n1. Which dates work for you? Let me know", "dates") == (
        "Which dates work for you?"
    )
    assert first_question("", "your budget") == "What about your budget?"


def test_self_critique_runs_critique_then_revise_per_round():
    runs = run(LeverSpec(name="self_critique", params={"rounds": 2}))
    labels = [n.label for n in runs[0].trace]
    assert labels == ["generate", "critique 1", "revise 1", "critique 2", "revise 2"]
    assert all(len(r.parsed.plan.questions) == 7 for r in runs)
    critique = prompts()[3][0].content  # calls: 3 generates, then the first critique
    assert "exactly one thing" in critique


def test_adapter_attaches_stored_adapter(tmp_path, monkeypatch):
    digest = "ab" * 32
    folder = tmp_path / ".autoresearch" / "adapters" / digest
    folder.mkdir(parents=True)
    (folder / "meta.json").write_text(json.dumps({"kind": "orpo"}))
    seen = []
    model = get_model("fake:planner")
    original = model.generate_batch
    monkeypatch.setattr(model, "generate_batch", lambda b, o: seen.append(o) or original(b, o))
    runs = run(LeverSpec(name="adapter", params={"adapter": "abab"}), workspace=tmp_path)
    assert seen[0].adapter == str(folder)
    node = runs[0].trace[0]
    assert (node.kind, node.adapter_kind) == ("adapter_inference", "orpo")


def test_adapter_missing_hash_is_a_clear_error(tmp_path):
    with pytest.raises(AdapterError, match="no adapter 'deadbeef'"):
        run(LeverSpec(name="adapter", params={"adapter": "deadbeef"}), workspace=tmp_path)


def test_prompt_fill_title_uses_the_task_when_the_answer_has_none():
    get_model("fake:q").enqueue("\n".join(f"{i}. Question {i}?" for i in range(1, 8)))
    config = AgentConfig(
        model="fake:q", levers=[LeverSpec(name="prompt", params={"fill_title": True})]
    )
    [r] = run_agent(config, dev_cases(1))
    assert r.parsed.plan.title == "Plan a trip to Paris"
    assert len(r.parsed.plan.questions) == 7
