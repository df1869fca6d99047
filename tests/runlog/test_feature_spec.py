"""The bridge from a ruler's feature to the spec levers see, and back to what is recorded."""

from __future__ import annotations

import json

from levers.feature import PLANNER
from levers.runner import CandidateRun
from ruler.loader import load_ruler
from ruler.plan import parse_plan
from runlog.feature_spec import answer_of, feature_spec, judged_reading, problems_of


def run_of(text: str) -> CandidateRun:
    return CandidateRun(case_id="r01", text=text, parsed=parse_plan(text), feature="x")


def test_the_planner_ruler_gives_the_planner_spec():
    assert feature_spec(load_ruler("planner")) is PLANNER


def test_a_feature_ruler_gives_its_instruction_contract_rubric_and_pool_but_no_gold():
    ruler = load_ruler("review_digest")
    spec = feature_spec(ruler)
    assert spec.name == "review_digest" and spec.input_label == "review"
    assert spec.output_schema == ruler.feature.output_schema
    assert [name for name, _ in spec.rubric] == list(ruler.feature.dimension_names)
    assert spec.pool.endswith("review_digest/pool/train.jsonl")
    dumped = json.dumps(spec.model_dump())
    some_gold = next(iter(ruler.cases.values())).gold["summary"]
    assert some_gold not in dumped and "score_1" not in dumped  # no gold, no anchors


def test_a_recorded_answer_is_read_as_the_judge_reads_it():
    ruler = load_ruler("review_digest")
    gold = next(iter(ruler.cases.values())).gold
    fenced = judged_reading(run_of(f"```json\n{json.dumps(gold)}\n```"), ruler)
    assert fenced.answer == gold and answer_of(fenced) == gold and problems_of(fenced) == []
    echoed = judged_reading(run_of(f"{json.dumps(gold)}\n\nJSON:\n{json.dumps(gold)}"), ruler)
    assert echoed.answer is None and answer_of(echoed) == {}
    assert problems_of(echoed) == ["unparseable"]  # as the judge: two objects are not JSON
    planner = run_of("Title: T\n1. A?")
    planner = planner.model_copy(update={"feature": "planner"})
    assert judged_reading(planner, load_ruler("planner")) is planner


def test_results_columns_are_the_features_dimensions():
    from types import SimpleNamespace

    from runlog.results import COLUMNS, columns_for

    def record(*dims: str):
        return SimpleNamespace(result=SimpleNamespace(dimension_means=dict.fromkeys(dims, 1.0)))

    review = columns_for([SimpleNamespace(result=None), record("faithfulness", "polarity")])
    assert review[4:6] == ("faithfulness", "polarity") and "atomicity" not in review
    assert columns_for([record("atomicity", "specificity")]) == COLUMNS  # the planner's
    assert columns_for([]) == COLUMNS
