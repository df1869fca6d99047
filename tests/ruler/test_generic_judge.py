"""GenericJudge, the LLM judge and the sanity suite on a feature other than the planner."""

from __future__ import annotations

import json

import pytest

from models import get_model
from ruler.feature_sanity import blanked, build_variants, duplicated, flipped, swapped
from ruler.gates import evaluate
from ruler.judges import GenericJudge, LLMJudge, get_judge
from ruler.loader import load_ruler
from ruler.lock import write_lock
from ruler.quality import per_case_quality
from ruler.sanity import run_sanity
from tests.ruler.feature_folder import write_folder


@pytest.fixture
def ruler(tmp_path):
    path = write_folder(tmp_path / "support_triage")
    write_lock(path)
    return load_ruler(path)


@pytest.mark.parametrize(
    ("text", "breach"),
    [
        ("Sure! Here is the subject: refund", "not JSON"),
        ('{"subject": "Refund please", "actions": ["a1", "a2"]}', "at /actions"),
        ('{"subject": "Refund please", "actions": ["one", "two", "three"], "x": 1}', "x"),
        ("", "empty answer"),
    ],
)
def test_a_contract_breach_is_a_failed_case_not_a_crash(ruler, text, breach):
    judge = get_judge("embedding", ruler=ruler)
    assert isinstance(judge, GenericJudge)
    verdict = judge.judge(ruler.cases["e1"], text)
    assert verdict.scores == {"accuracy": 1, "grounded": 1, "distinct": 1}
    assert verdict.outcome == "L" and breach in verdict.rationale
    assert per_case_quality(verdict) == 0.0


def test_the_planner_keeps_its_own_judge():
    from ruler.judges import EmbeddingJudge

    assert isinstance(get_judge("embedding", ruler=load_ruler("planner")), EmbeddingJudge)
    assert isinstance(get_judge("offline"), EmbeddingJudge)


def test_generic_variants_are_built_from_the_schema(ruler):
    feature = ruler.feature
    gold, other = ruler.cases["e1"].gold_data, ruler.cases["e2"].gold_data
    accuracy, grounded, distinct = feature.rubric
    assert blanked(gold, other, accuracy, feature.output_schema)["subject"] == ""
    assert blanked(gold, other, grounded, feature.output_schema)["actions"] == ["", "", ""]
    twice = duplicated(gold, other, distinct, feature.output_schema)["actions"]
    assert twice[0] == twice[-1] and twice[1] == gold["actions"][1]
    mixed = swapped(gold, other, grounded, feature.output_schema)["actions"]
    assert mixed[0] == gold["actions"][0] and mixed[1:] == other["actions"][:2]
    assert swapped(gold, other, accuracy, feature.output_schema)["subject"] == other["subject"]
    assert flipped(gold, other, accuracy, feature.output_schema) is None  # no enum there
    variants = build_variants(feature, list(ruler.cases.values()), [])
    kinds = {(name, dim) for name, dim, _, _ in variants}
    assert kinds == {
        ("blanked", "accuracy"),
        ("swapped", "accuracy"),
        ("blanked", "grounded"),
        ("swapped", "grounded"),
        ("duplicated", "distinct"),
    }
    assert gold == ruler.cases["e1"].gold_data  # the gold itself is never modified


def test_flipped_changes_every_enum_value():
    from ruler.feature import Feature, RubricDimension

    schema = {
        "type": "object",
        "properties": {
            "points": {
                "type": "array",
                "items": {"type": "object", "properties": {"s": {"enum": ["pro", "con"]}}},
            }
        },
    }
    dim = RubricDimension(name="polarity", description="d", signal="agreement", field="points[].s")
    Feature(name="f", description="d", instruction="{input}", output_schema=schema, rubric=[dim])
    out = flipped({"points": [{"s": "pro"}, {"s": "con"}]}, None, dim, schema)
    assert out == {"points": [{"s": "con"}, {"s": "pro"}]}


GOOD = {"scores": {"accuracy": 4, "grounded": 5, "distinct": 3}, "rationale": "fine"}


def test_the_llm_judge_reads_the_feature_rubric_and_contract(ruler):
    fake = get_model("fake:judge")
    fake.enqueue(json.dumps(GOOD))
    fake.enqueue(json.dumps({"winner": "A", "rationale": "a"}))  # candidate as A: A wins
    fake.enqueue(json.dumps({"winner": "B", "rationale": "b"}))  # candidate as B: B wins
    judge = get_judge("fake:judge", ruler=ruler)
    assert isinstance(judge, LLMJudge)
    case = ruler.cases["e2"]
    verdict = judge.judge(case, json.dumps(case.gold_data))
    assert verdict.scores == GOOD["scores"] and verdict.outcome == "W"
    system, user = (m.content for m in fake.calls[0])
    assert "support_triage" in system and '"minItems":3' in system.replace(" ", "")
    assert "- grounded: Is every action about something the email says?" in system
    assert "1 = Most actions are about things the email never mentions." in system
    assert '"accuracy": <1-5>, "grounded": <1-5>, "distinct": <1-5>' in system
    assert user.startswith("The email:\nMy password reset link expired")
    assert "atomicity" not in system + user


def test_the_llm_judge_fails_a_breach_without_calling_the_model(ruler):
    fake = get_model("fake:judge")
    verdict = get_judge("fake:judge", ruler=ruler).judge(ruler.cases["e1"], "no json here")
    assert verdict.outcome == "L" and set(verdict.scores.values()) == {1}
    assert not fake.calls


def test_a_gate_on_a_feature_uses_its_rubric(ruler):
    fake = get_model("fake:judge")
    for _ in range(2):
        fake.enqueue(json.dumps(GOOD), json.dumps({"winner": "tie", "rationale": "t"}))
        fake.enqueue(json.dumps({"winner": "tie", "rationale": "t"}))
    answers = {cid: json.dumps(c.gold_data) for cid, c in ruler.cases.items()}
    result = evaluate(answers, "dev-2", get_judge("fake:judge", ruler=ruler), ruler=ruler)
    assert result.dimension_means == {"accuracy": 4.0, "grounded": 5.0, "distinct": 3.0}
    assert result.ties == 2 and result.quality == pytest.approx(0.5 * 0.75 + 0.5 * 0.5)


@pytest.mark.slow
def test_gold_beats_every_generic_variant_for_real(ruler):
    """Real MiniLM on a folder nobody tuned the judge on: gold above each degraded variant."""
    judge = get_judge("embedding", ruler=ruler)
    report = run_sanity(judge, list(ruler.cases.values()), feature=ruler.feature)
    rates = {(r.name, r.dimension): r.rate for r in report.results}
    assert len(rates) == 5 and min(rates.values()) >= 0.8, rates
    assert report.lower_rates["duplicated"]["distinct"] == 1.0
    golds = judge.judge_many([(c, json.dumps(c.gold_data)) for c in ruler.cases.values()])
    assert all(v.outcome == "T" and min(v.scores.values()) >= 4 for v in golds)


def test_a_dimension_without_a_field_has_a_default(ruler):
    from ruler.feature import RubricDimension

    dims = [RubricDimension(name=n, description="d") for n in ("grounded", "distinct", "tone")]
    judge = GenericJudge(ruler.feature.model_copy(update={"rubric": dims}))
    assert [d.measured_by for d in dims] == ["grounding", "redundancy", "agreement"]
    assert judge.first_array() == "actions"  # where redundancy looks
    gold = ruler.cases["e1"].gold_data
    assert judge.free_strings(gold, "") == [gold["subject"], *gold["actions"]]
