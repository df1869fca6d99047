"""The seed's missing levers on the fake model: schema, info_gain, answer_simulation, verify,
ensemble (one or more tests each, plus their selection steps on hand-made inputs)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pydantic import ValidationError

from levers.builtin import answer_simulation, ensemble, info_gain, verify
from levers.builtin.schema import SchemaParams, api_schema, plan_from, plan_schema
from levers.builtin.selection import exactly_seven, facility_location
from levers.config import AgentConfig, LeverSpec
from levers.registry import lever_classes
from levers.runner import run_agent
from levers.validate import validate_lever
from models.registry import get_model
from ruler.loader import load_ruler
from ruler.plan import parse_plan

NEW = ("schema", "info_gain", "answer_simulation", "verify", "ensemble")


def dev_cases(n: int = 2):
    return load_ruler().gate_cases("dev-10")[:n]


def run(model: str, *levers: LeverSpec, n: int = 1):
    return run_agent(AgentConfig(model=model, levers=list(levers)), dev_cases(n))


def numbered(questions: list[str], title: str = "Paris") -> str:
    return "\n".join([f"Title: {title}"] + [f"{i}. {q}" for i, q in enumerate(questions, 1)])


def test_new_levers_are_registered_with_bounded_params():
    infos = lever_classes()
    for name in NEW:
        schema = infos[name].schema()
        assert schema.get("additionalProperties") is False, name
        for field, spec in schema["properties"].items():
            bounded = {"minimum", "maximum"} <= spec.keys() or "enum" in spec
            assert bounded or spec["type"] == "boolean", (name, field)


def test_params_reject_unknown_and_out_of_range_values():
    with pytest.raises(ValidationError):
        info_gain.InfoGainParams(branches=2)
    with pytest.raises(ValidationError):
        ensemble.EnsembleParams(vary="votes")
    with pytest.raises(ValidationError):
        verify.VerifyParams(rounds=2)


def test_schema_lever_asks_for_json_and_renders_seven_questions():
    model = get_model("fake:planner")
    [r] = run("fake:planner", LeverSpec(name="prompt"), LeverSpec(name="schema"))
    assert [n.label for n in r.trace] == ["plan (json schema)", "json to plan"]
    assert "Answer as JSON" in model.calls[0][-1].content
    assert r.parsed.plan.title == "Planning: Trip Paris" and len(r.parsed.plan.questions) == 7


def test_plan_schema_demands_seven_questions_and_plan_from_falls_back():
    schema = plan_schema(SchemaParams(question_mark=False))
    questions = schema["properties"]["questions"]
    assert questions["minItems"] == questions["maxItems"] == 7
    assert "pattern" not in questions["items"]
    answer = json.dumps({"title": "T", "questions": [f"Q{i}?" for i in range(9)]})
    assert parse_plan(plan_from(answer, "go")).plan.questions == [f"Q{i}?" for i in range(7)]
    fallback = parse_plan(plan_from("1. Where?\n2. When?", "plan a trip")).plan
    assert fallback.title == "Plan a trip" and fallback.questions == ["Where?", "When?"]


def test_facility_location_covers_every_target_before_repeating():
    targets = np.eye(3, dtype=np.float32)
    items = np.array([[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float32)
    items /= np.linalg.norm(items, axis=1, keepdims=True)
    assert facility_location(targets, np.ones(3), items, 3) == [1, 3, 2]  # 0 duplicates 1
    assert exactly_seven(["a", "a", "b"], ["c", "b", "d"]) == ["a", "b", "c", "d"]


def test_info_gain_lists_branches_then_keeps_seven_that_cover_them():
    model = get_model("fake:ig")
    branches = numbered(["budget", "travel dates", "who is coming"], "Decisions")
    pool = [f"What is your budget for the Paris hotel, option {i}?" for i in range(8)]
    pool += ["Which travel dates work?", "Who is coming with you?", "Do you like museums?"]
    model.enqueue(branches, numbered(pool))
    params = {"branches": 3, "n": 11}
    [r] = run("fake:ig", LeverSpec(name="info_gain", params=params))
    assert [n.label for n in r.trace] == [
        "list branches",
        "ask for 11",
        "select 7 of 11 by branch coverage",
    ]
    kept = r.parsed.plan.questions
    assert len(kept) == 7 and "Which travel dates work?" in kept
    assert "Who is coming with you?" in kept
    assert "decisions the plan hinges on" in model.calls[0][-1].content


def test_answer_simulation_keeps_questions_whose_answers_differ():
    questions = [f"Question {i}?" for i in range(9)]
    same = ["yes", "yes"]
    answers = [same] * 2 + [[f"spent {i} dollars", f"went walking {i} hours"] for i in range(7)]
    kept = answer_simulation.select(questions, answers, redundancy=1.0)
    assert kept == questions[2:]


def test_answer_simulation_runs_k_answers_per_candidate():
    [r] = run(
        "fake:planner",
        LeverSpec(name="answer_simulation", params={"k": 2, "answer_tokens": 16}),
    )
    labels = [n.label for n in r.trace]
    assert labels[0] == "ask for 12" and labels[-1] == "keep 7 of 7 by answer spread"
    assert labels.count("simulate 2 answers x 7") == 14
    assert len(r.parsed.plan.questions) == 7


def test_verify_rules_flag_compound_off_task_and_duplicate_questions():
    p = verify.VerifyParams(specificity_min=0.3)
    questions = [
        "What is your budget for the Paris trip and when do you leave?",
        "Which colour is your sky?",
        "How many days will you spend in Paris?",
        "How many days will you spend in Paris?",
        "Paris hotel",
    ]
    failed = verify.rule_failures("plan a trip to Paris", questions, p)
    assert failed[0] == {"atomicity"}
    assert "specificity" in failed[1]
    assert "non_redundancy" in failed[2] and "non_redundancy" in failed[3]
    assert not {"atomicity", "naturalness"} & (failed[2] | failed[3])
    assert "naturalness" in failed[4]


def test_verify_rewrites_only_the_failing_question_and_rechecks_it():
    model = get_model("fake:vf")
    good = [f"How many days in Paris for the {w} trip?" for w in "abcdef"]
    draft = numbered([*good, "What is your Paris budget and when do you leave?"])
    model.enqueue(draft, "What is your budget for the Paris trip?")
    [r] = run("fake:vf", LeverSpec(name="verify", params={"redundancy": 1.0}))
    labels = [n.label for n in r.trace]
    assert labels == ["generate", "check 7 (rules)", "rewrite 1", "re-check 1 (rules)"]
    assert r.parsed.plan.questions[-1] == "What is your budget for the Paris trip?"
    assert r.parsed.plan.questions[:6] == good


def test_verify_model_checker_asks_one_yes_no_call_per_question_and_dimension():
    [r] = run("fake:planner", LeverSpec(name="verify", params={"checker": "model"}))
    checks = [n for n in r.trace if n.label == "check 7 (model)"]
    assert len(checks) == 7 * len(verify.MODEL_CHECKS)
    assert len(r.parsed.plan.questions) == 7


def test_ensemble_vote_keeps_what_most_samples_ask():
    common = "What is your budget for the trip?"
    samples = [
        [common, "Do you like museums?"],
        [common, "Which hotel do you want?"],
        [common, "Do you like museums?"],
    ]
    kept = ensemble.vote(samples, threshold=0.9)
    assert kept[0] == common and kept[1] == "Do you like museums?"
    assert len(kept) == 3


@pytest.mark.parametrize("vary", ["seed", "temperature", "instruction"])
def test_ensemble_samples_k_plans_and_merges_to_seven(vary):
    model = get_model("fake:planner")
    model.calls.clear()
    params = {"k": 3, "vary": vary}
    [r] = run("fake:planner", LeverSpec(name="prompt"), LeverSpec(name="ensemble", params=params))
    labels = [n.label for n in r.trace]
    assert labels == ["sample 1/3", "sample 2/3", "sample 3/3", "cluster and vote over 21"]
    assert len(r.parsed.plan.questions) == 7
    requests = {m[-1].content for m in model.calls}
    assert len(requests) == (3 if vary == "instruction" else 1)


LEVER_CLASSES = {
    "schema": "levers.builtin.schema:SchemaLever",
    "info_gain": "levers.builtin.info_gain:InfoGainLever",
    "answer_simulation": "levers.builtin.answer_simulation:AnswerSimulationLever",
    "verify": "levers.builtin.verify:VerifyLever",
    "ensemble": "levers.builtin.ensemble:EnsembleLever",
}


# verify and ensemble take ~6 s each in the validator's subprocess; the other three stay fast
@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n in ("verify", "ensemble") else n for n in NEW],
)
def test_new_lever_passes_the_validator(tmp_path, name):
    """The validator's smoke case (the lever alone on fake:planner), on a renamed subclass."""
    module, cls = LEVER_CLASSES[name].split(":")
    path = tmp_path / f"{name}_copy.py"
    path.write_text(
        f"from {module} import {cls}\n"
        "from levers.hookspecs import hookimpl\n\n\n"
        f"class Copy({cls}):\n    name = '{name}_copy'\n\n\n"
        "@hookimpl\ndef register_levers(register):\n    register(Copy)\n"
    )
    report = validate_lever(path, expect=[f"{name}_copy"], timeout=120)
    assert report.ok, report.line()


def test_remote_backends_get_the_schema_without_bounds():
    schema = api_schema(plan_schema(SchemaParams()))
    text = json.dumps(schema)
    assert not any(k in text for k in ("minItems", "maxItems", "maxLength", "pattern"))
    assert schema["properties"]["questions"] == {"type": "array", "items": {"type": "string"}}
    assert schema["required"] == ["title", "questions"] and not schema["additionalProperties"]


def test_info_gain_tops_up_when_the_model_lists_too_few_candidates():
    model = get_model("fake:few")
    first = [f"Which Paris {w} do you want?" for w in ("hotel", "museum", "food", "area", "day")]
    more = ["Which Paris hotel do you want?", "How long is the trip?", "Who comes along?"]
    model.enqueue(numbered(["budget", "dates", "people"]), numbered(first), numbered(more))
    params = {"branches": 3, "n": 8, "top_up": 2}
    [r] = run("fake:few", LeverSpec(name="info_gain", params=params))
    labels = [n.label for n in r.trace]
    # 5 listed, 2 new in the first top-up (one repeats), the second fills up to 8
    assert labels[1:] == [
        "ask for 8",
        "ask for more 1",
        "ask for more 2",
        "select 7 of 8 by branch coverage",
    ]
    assert len(r.parsed.plan.questions) == 7


def test_info_gain_tops_up_to_seven_even_with_top_up_off():
    """Fewer than seven candidates would break the contract (a failed case): the lever makes
    sampled calls until it has seven, whatever `top_up` says, and stops there."""
    model = get_model("fake:few")
    first = [f"Which Paris {w} do you want?" for w in ("hotel", "museum", "food")]
    more = ["How long is the trip?", "Who comes along?", "What is the budget?", "When?"]
    model.enqueue(numbered(["budget", "dates", "people"]), numbered(first), numbered(more))
    [r] = run("fake:few", LeverSpec(name="info_gain", params={"branches": 3, "top_up": 0}))
    labels = [n.label for n in r.trace]
    assert labels[1:] == ["ask for 12", "ask for more 1", "select 7 of 7 by branch coverage"]
    assert len(r.parsed.plan.questions) == 7 and not r.failed
