"""Levers on a feature other than the planner: they read the instruction, contract, rubric and
pool from `ctx.feature`; planner-only levers are refused; the planner's levers are unchanged."""

from __future__ import annotations

import json
import random

import llguidance
import pytest

from levers.builtin.schema import SchemaParams, plan_schema
from levers.config import AgentConfig, LeverSpec
from levers.feature import PLANNER, FeatureSpec, json_answer
from levers.pool import pool_cases, training_pool
from levers.registry import LeverError, lever_classes, levers_for
from levers.runner import run_agent
from levers.training.answers import degrade_answer
from levers.training.data import Prompt, build_sft, build_style_pairs, load_training_pool
from models.backends.constrained import schema_grammar
from models.base import Message
from models.registry import get_model
from ruler.records import Case

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["subject", "actions"],
    "properties": {
        "subject": {"type": "string", "minLength": 3, "maxLength": 80},
        "actions": {
            "type": "array",
            "minItems": 1,
            "maxItems": 3,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["owner", "task"],
                "properties": {
                    "owner": {"enum": ["us", "customer"]},
                    "task": {"type": "string", "minLength": 3},
                },
            },
        },
    },
}
GOLD = {"subject": "Refund a double charge", "actions": [{"owner": "us", "task": "Refund $20"}]}
EMAILS = [
    ("e01", "Hi, I was charged twice for my order 118. Please refund one of them."),
    ("e02", "My parcel never arrived; can you resend it or tell me where it is?"),
    ("e03", "Please change my delivery address to 4 Elm Street before Friday."),
]


@pytest.fixture
def feature(tmp_path) -> FeatureSpec:
    """A support-email feature no one in the project wrote, with a three-case pool."""
    pool = tmp_path / "triage" / "pool" / "train.jsonl"
    pool.parent.mkdir(parents=True)
    rows = [{"id": i, "input": text, "gold": GOLD} for i, text in EMAILS]
    pool.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    pool_cases.cache_clear()
    return FeatureSpec(
        name="email_triage",
        description="Reads one support email and writes its subject and action items.",
        instruction='Read the email and answer as JSON {"subject": ..., "actions": [...]}.\n\n'
        "Email:\n{input}\n\nJSON:",
        input_label="email",
        output_schema=SCHEMA,
        rubric=(("faithfulness", "Is every action in the email?"), ("brevity", "Is it short?")),
        pool=str(pool),
    )


def run(feature: FeatureSpec, *levers: LeverSpec, model: str = "fake:planner"):
    cases = [Case(id="c1", task="I was billed twice this month, please fix it.", gold=GOLD)]
    return run_agent(AgentConfig(model=model, levers=list(levers)), cases, feature=feature)


def last_prompt() -> list:
    return get_model("fake:planner").calls[-1]


def test_the_prompt_lever_renders_the_features_instruction_with_the_input(feature):
    get_model("fake:planner").calls.clear()
    [r] = run(feature, LeverSpec(name="prompt", params={"instructions": "rubric"}))
    request = last_prompt()[-1].content
    assert request.startswith("Read the email and answer as JSON")
    assert "Email:\nI was billed twice this month, please fix it." in request
    assert '{"subject": ..., "actions": [...]}' in request  # braces of the instruction kept
    assert "- faithfulness: Is every action in the email?" in request
    assert "seven" not in request.lower() and "question" not in request.lower()
    assert r.feature == "email_triage" and not r.failed


def test_few_shot_examples_come_from_the_features_pool_as_its_json(feature):
    get_model("fake:planner").calls.clear()
    run(feature, LeverSpec(name="prompt", params={"few_shot": 2, "system": "planner"}))
    messages = last_prompt()
    assert messages[0].role == "system" and "support email" in messages[0].content
    shown = [json.loads(m.content) for m in messages if m.role == "assistant"]
    assert shown == [GOLD, GOLD]
    asked = [m.content for m in messages[1:-1] if m.role == "user"]
    assert all(any(text in a for _, text in EMAILS) for a in asked)


def test_rag_retrieves_from_the_features_pool(feature):
    get_model("fake:planner").calls.clear()
    run(feature, LeverSpec(name="rag", params={"k": 1, "method": "bm25"}))
    examples = [m.content for m in last_prompt() if m.role == "user"][:-1]
    assert len(examples) == 1 and EMAILS[0][1] in examples[0]  # the double-charge email


def byte_matcher(schema: dict) -> llguidance.LLMatcher:
    """A real llguidance matcher for the schema over a byte-level tokenizer."""

    class ByteTokenizer:
        eos_token_id = 256
        bos_token_id = None
        tokens = [bytes([i]) for i in range(256)] + [b"<eos>"]

        def __call__(self, text):
            return list(text.encode()) if isinstance(text, str) else list(text)

    tokenizer = llguidance.LLTokenizer(llguidance.TokenizerWrapper(ByteTokenizer()))
    return llguidance.LLMatcher(tokenizer, schema_grammar(schema))


def accepted(schema: dict, text: str) -> bool:
    matcher = byte_matcher(schema)
    matcher.consume_tokens(list(text.encode()))
    return not matcher.is_error() and matcher.is_accepting()


def test_the_schema_lever_constrains_to_the_features_json_schema(feature, monkeypatch):
    model = get_model("fake:planner")
    seen = []
    original = model.generate_batch
    monkeypatch.setattr(model, "generate_batch", lambda b, o: seen.append(o) or original(b, o))
    model.enqueue(json.dumps(GOLD) + " and some chatter")
    [r] = run(feature, LeverSpec(name="schema"))
    assert seen[0].json_schema == SCHEMA
    assert json.loads(r.text) == GOLD and r.answer == GOLD  # re-serialized, chatter dropped
    # the constraint, compiled by llguidance as the local backend does: gold passes, the
    # planner's shape and a value outside the enum do not
    assert accepted(seen[0].json_schema, json.dumps(GOLD))
    assert not accepted(seen[0].json_schema, json.dumps({"title": "x", "questions": []}))
    bad = {**GOLD, "actions": [{"owner": "nobody", "task": "Refund"}]}
    assert not accepted(seen[0].json_schema, json.dumps(bad))


def test_the_planner_keeps_its_own_schema(monkeypatch):
    model = get_model("fake:planner")
    seen = []
    original = model.generate_batch
    monkeypatch.setattr(model, "generate_batch", lambda b, o: seen.append(o) or original(b, o))
    [r] = run(PLANNER, LeverSpec(name="schema"))
    assert seen[0].json_schema == plan_schema(SchemaParams())
    assert len(r.parsed.plan.questions) == 7 and r.answer is None


@pytest.mark.parametrize(
    "lever",
    [
        LeverSpec(name="self_critique"),
        LeverSpec(name="verify", params={"checker": "both"}),
        LeverSpec(name="multi_call", params={"mode": "decompose"}),
        LeverSpec(name="multi_call", params={"mode": "overgenerate"}),
        LeverSpec(name="ensemble", params={"k": 3, "vary": "instruction"}),
    ],
)
def test_multi_call_levers_work_on_a_json_answer(feature, lever):
    model = get_model("fake:planner")
    model.calls.clear()
    [r] = run(feature, LeverSpec(name="prompt"), lever)
    assert not r.failed, r.error
    said = "\n".join(m.content for call in model.calls for m in call)
    assert "seven" not in said.lower()


def test_self_critique_checks_against_the_features_rubric(feature):
    model = get_model("fake:planner")
    model.calls.clear()
    model.enqueue(json.dumps(GOLD), "The subject is vague.", json.dumps(GOLD))
    run(feature, LeverSpec(name="self_critique"))
    critique = model.calls[1][-1].content
    assert "- faithfulness: Is every action in the email?" in critique
    assert json.dumps(GOLD) in critique


def test_the_ensemble_keeps_the_answer_that_keeps_the_contract(feature):
    model = get_model("fake:planner")
    broken = json.dumps({"subject": "x"})
    model.enqueue(broken, json.dumps(GOLD), broken)
    [r] = run(feature, LeverSpec(name="ensemble", params={"k": 3}))
    assert json.loads(r.text) == GOLD


def test_planner_only_levers_are_not_offered_and_are_refused(feature):
    fitting = levers_for(feature, lever_classes())
    assert {"info_gain", "answer_simulation"}.isdisjoint(fitting)
    assert {"prompt", "schema", "rag", "self_critique", "verify", "ensemble"} <= set(fitting)
    assert {"info_gain", "answer_simulation"} <= set(levers_for(PLANNER, lever_classes()))
    with pytest.raises(LeverError, match="serves only the planner"):
        run(feature, LeverSpec(name="info_gain"))


def test_json_answer_reads_fences_and_trailing_text():
    assert json_answer('```json\n{"a": 1}\n```') == {"a": 1}
    assert json_answer('Sure! {"a": [1, 2]} Hope it helps {.') == {"a": [1, 2]}
    assert json_answer("[1, 2] then") == [1, 2]
    assert json_answer("no json here") is None


def test_training_rows_are_built_from_the_features_pool(feature, monkeypatch):
    import ruler.loader

    class NoCases:
        cases: dict = {}

    monkeypatch.setattr(ruler.loader, "load_ruler", lambda *a, **k: NoCases())
    pool = load_training_pool(feature=feature)
    assert [c.id for c in pool] == ["e01", "e02", "e03"] and pool[0].gold == GOLD
    sft = build_sft(pool, lambda case: Prompt(messages=[Message(role="user", content=case.task)]))
    assert [json.loads(row["completion"]) for row in sft.rows] == [GOLD] * 3
    assert sft.recipe.pool.startswith("feature training pool")
    pairs = build_style_pairs(pool, seed=1)
    assert all(json.loads(r["chosen"]) == GOLD != json.loads(r["rejected"]) for r in pairs.rows)
    assert pairs.rows == build_style_pairs(pool, seed=1).rows  # seeded: reproducible


def test_degrading_an_answer_changes_it_and_keeps_its_shape():
    value = {"subject": "Refund", "actions": [{"owner": "us", "task": "Refund $20 today"}] * 2}
    degraded, ops = degrade_answer(value, random.Random(3))
    assert degraded != value and ops and set(degraded) == set(value)
    assert value["actions"][0]["task"] == "Refund $20 today"  # the gold is not touched


def test_the_feature_reaches_the_sandboxed_worker(feature):
    from levers.pipeline import run_once

    rag = {"name": "rag", "params": {"k": 1, "method": "bm25"}}  # no MiniLM in the worker
    config = {"model": "fake:planner", "levers": [rag]}
    reply = run_once(config, [{"id": "c1", "task": EMAILS[1][1]}], None, None, 120, feature=feature)
    [run_] = reply["runs"]
    assert run_["feature"] == "email_triage" and not run_["failed"]
    refused = {"model": "fake:planner", "levers": [{"name": "answer_simulation"}]}
    with pytest.raises(Exception, match="serves only the planner"):
        run_once(refused, [{"id": "c1", "task": "x"}], None, None, 120, feature=feature)


def test_the_pool_of_a_feature_without_one_is_empty():
    spec = PLANNER.model_copy(update={"name": "other", "pool": ""})
    assert training_pool(spec) == ()
    assert len(training_pool(PLANNER)) > 100  # the planner's shipped pool, as before


LEVER_READING_CASES = '''
from pathlib import Path

from levers import Lever, hookimpl


class Peek(Lever):
    """Tries to read the imported feature's cases next to the pool it may read."""

    name = "peek"

    def finalize(self, ctx):
        folder = Path(ctx.feature.pool).parent.parent
        pool = (folder / "pool" / "train.jsonl").read_text()[:20]
        try:
            ctx.draft = "GOLD " + (folder / "cases.jsonl").read_text()
        except PermissionError:
            ctx.draft = "denied; pool " + pool


@hookimpl
def register_levers(register):
    register(Peek)
'''


def test_a_lever_reads_an_imported_features_pool_but_never_its_cases(feature, tmp_path):
    from levers.pipeline import run_once

    folder = tmp_path / "triage"
    (folder / "cases.jsonl").write_text('{"id": "r1", "input": "x", "gold": "SECRET"}\n')
    agent = tmp_path / "agent"
    (agent / "levers").mkdir(parents=True)
    (agent / "levers" / "peek.py").write_text(LEVER_READING_CASES, encoding="utf-8")
    config = {"model": "fake:planner", "levers": [{"name": "peek"}]}
    (agent / "agent.toml").write_text('model = "fake:planner"\n[[levers]]\nname = "peek"\n')
    reply = run_once(config, [{"id": "c1", "task": "x"}], agent, None, 120, feature=feature)
    [run_] = reply["runs"]
    assert run_["text"].startswith('denied; pool {"id": "e01"'), run_["text"]
    assert "SECRET" not in run_["text"]
