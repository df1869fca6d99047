"""Expected gain per second: priors, what the log teaches, and the heuristic's order."""

from __future__ import annotations

import copy

import pytest
from click.testing import CliRunner

from levers.config import BASELINE_AGENT
from levers.feature import PLANNER
from orchestrator.cli import load_commands
from orchestrator.loop import run_loop
from orchestrator.pool.plan import costed
from orchestrator.researchers.base import (
    ExperimentSummary,
    LogView,
    Proposal,
    TrainingRequest,
    apply_patch,
)
from orchestrator.researchers.cost import FLOOR_SECONDS, estimates, lever_priors, predict_seconds
from orchestrator.researchers.heuristic import HeuristicResearcher, moves_for
from orchestrator.researchers.random_search import RandomResearcher
from ruler.records import GateResult, Interval
from runlog.calibration import calibration, seconds_per_case
from runlog.records import ExperimentRecord
from runlog.workspace import Workspace

BASE = BASELINE_AGENT.model_dump()
MOVES = moves_for(PLANNER)
RAG, INFO_GAIN, PENALTY, RUBRIC, EXAMPLE = (
    next(m for m in MOVES if m.hypothesis.startswith(prefix))
    for prefix in (
        "The two nearest",
        "Over-generating questions",
        "A repetition",
        "Spelling",
        "One worked example",
    )
)


def summary(i: int, agent: dict, status: str, per_case: float | None, delta=None, hyp="h"):
    return ExperimentSummary(
        id=f"{i:03d}",
        status=status,
        lever_class="x",
        hypothesis=hyp,
        agent=agent,
        delta=delta,
        seconds_per_case=per_case,
    )


def applied(move, agent=BASE) -> dict:
    return move.apply(copy.deepcopy(agent))


def test_with_nothing_measured_the_priors_rank_the_moves():
    got = estimates(LogView(best_id="001", best_agent=BASE), MOVES, 10)
    assert got[RAG.hypothesis].seconds is None  # the best's time is unknown
    assert got[INFO_GAIN.hypothesis].gain == pytest.approx(0.062)
    # rag's +0.059 at twice the time beats information gain's +0.062 at five times; a knob
    # that broke the contract comes after a move that gained nothing
    values = {m: got[m.hypothesis].value for m in (PENALTY, INFO_GAIN, RAG, RUBRIC)}
    assert values[RAG] > values[INFO_GAIN] > values[RUBRIC] == 0.0 > values[PENALTY]


def test_the_log_teaches_cost_factors_and_gains():
    log = LogView(
        experiments=[
            summary(1, BASE, "kept", 0.8),
            summary(2, applied(RAG), "discarded", 2.4, delta=0.02),  # 3x the seconds per case
            summary(3, applied(RUBRIC), "discarded", 0.8, delta=-0.05),
        ],
        best_id="001",
        best_agent=BASE,
    )
    got = estimates(log, MOVES, 10)
    assert got[RAG.hypothesis].factor == pytest.approx(3.0)  # measured, not the prior 2.0
    assert got[RAG.hypothesis].seconds == pytest.approx(0.8 * 3.0 * 10)
    assert got[RAG.hypothesis].gain == pytest.approx((0.059 + 0.02) / 2)  # prior as one of two
    assert got[RUBRIC.hypothesis].gain == pytest.approx(-0.025)
    assert got[INFO_GAIN.hypothesis].seconds == pytest.approx(0.8 * 5.0 * 10)  # prior factor


def test_factors_are_learned_on_the_best_of_their_time_and_averaged_as_logarithms():
    rag = applied(RAG)
    log = LogView(
        experiments=[
            summary(1, BASE, "kept", 1.0),
            summary(2, applied(INFO_GAIN), "discarded", 2.0),  # x2 on the baseline
            summary(3, rag, "kept", 2.0),
            summary(4, applied(INFO_GAIN, rag), "discarded", 16.0),  # x8 on rag
        ],
        best_id="003",
        best_agent=rag,
    )
    got = estimates(log, MOVES, 10)[INFO_GAIN.hypothesis]
    assert got.factor == pytest.approx(4.0)  # the geometric mean of 2 and 8
    assert got.seconds == pytest.approx(2.0 * 4.0 * 10)  # on the best now, rag


def test_the_heuristic_proposes_by_expected_gain_per_second_and_pre_registers_it():
    researcher = HeuristicResearcher(plateau_after=100)
    log = LogView(experiments=[summary(1, BASE, "kept", 0.8)], best_id="001", best_agent=BASE)
    first = researcher.propose(log, [])
    assert first.hypothesis == RAG.hypothesis
    assert first.predicted_delta == pytest.approx(0.059)
    assert first.predicted_seconds == pytest.approx(16.0)  # prior factor 2 on 0.8 s x 10
    assert "expected Δ +0.059 in about 16 s" in first.method
    # rag turned out dear and useless: the next proposal is one worked example
    log.experiments.append(
        summary(2, apply_patch(BASE, first.agent_patch), "discarded", 4.0, delta=-0.06)
    )
    assert researcher.propose(log, []).hypothesis == EXAMPLE.hypothesis
    # a focus note still comes first, whatever it costs
    focused = researcher.propose(log, ["focus multi_call"])
    assert focused.hypothesis == INFO_GAIN.hypothesis


def test_a_move_that_lost_on_one_best_waits_on_the_next():
    researcher = HeuristicResearcher(plateau_after=100)
    rag = applied(RAG)
    log = LogView(
        experiments=[
            summary(1, BASE, "kept", 0.8),
            summary(2, applied(EXAMPLE), "discarded", 0.8, delta=-0.2),
            summary(3, rag, "kept", 1.6, delta=0.05),
        ],
        best_id="003",
        best_agent=rag,
    )
    proposal = researcher.propose(log, [])
    assert proposal.hypothesis == INFO_GAIN.hypothesis  # not the worked example again on rag


def _gate(name: str, cases: int, judge_seconds: float = 0.0) -> GateResult:
    return GateResult(
        gate=name,
        judge_id="j",
        ruler_hash="r",
        verdicts=[],
        dimension_means={},
        wins=0,
        ties=0,
        losses=0,
        quality=0.2,
        interval=Interval(low=0.1, high=0.3),
        per_case_quality={f"c{i}": 0.2 for i in range(cases)},
        judge_seconds=judge_seconds,
    )


def test_seconds_per_case_is_the_model_time_over_the_gates_cases():
    record = ExperimentRecord(
        id="002",
        hypothesis="h",
        status="discarded",
        gates=[_gate("dev-10", 10), _gate("full-30", 30)],  # full-30 reuses dev-10's ten
        node_seconds={"model": 60.0, "judge": 4.0},
    )
    assert seconds_per_case(record) == pytest.approx(2.0)
    assert seconds_per_case(record.model_copy(update={"node_seconds": {}})) is None
    assert seconds_per_case(record.model_copy(update={"gates": []})) is None


def test_calibration_compares_predicted_and_observed_seconds():
    timed = ExperimentRecord(
        id="002",
        hypothesis="h",
        status="discarded",
        gates=[_gate("dev-10", 10), _gate("full-30", 30)],
        node_seconds={"model": 60.0},  # 2 s a case: 20 s for the keep gate's ten
        predicted_seconds=10.0,
    )
    other = timed.model_copy(update={"id": "003", "predicted_seconds": 40.0})
    result = calibration([timed, other, timed.model_copy(update={"predicted_seconds": None})])
    assert result.timed == 2 and result.seconds_ratio == pytest.approx(1.0)  # x2 and x0.5
    assert result.n == 0  # no Δ was compared
    assert "seconds observed/predicted ×1.00 (2)" in result.line()
    assert calibration([timed]).seconds_ratio == pytest.approx(2.0)


@pytest.mark.slow
def test_a_run_records_the_heuristics_predictions_and_show_prints_them(tmp_path):
    root = Workspace.init(tmp_path / "ws", model="fake:planner", judge="fake:judge").main_root
    run_loop(root, experiments=2, researcher=HeuristicResearcher(plateau_after=100))
    ws = Workspace.open(root)
    baseline, first = ws.records()
    assert baseline.predicted_seconds is None  # the stock agent is not a move
    assert first.hypothesis == RAG.hypothesis and first.predicted_delta == 0.059
    # the baseline's own seconds per case (a fake model's, floored), rag's prior factor 2,
    # the ten dev cases
    per_case = max(seconds_per_case(baseline), FLOOR_SECONDS)
    assert first.predicted_seconds == pytest.approx(10 * per_case * 2.0, abs=0.1)
    shown = CliRunner().invoke(load_commands(), ["show", "002", "-C", str(root)])
    assert "predicted:  Δ +0.059 on the keep gate" in shown.output
    assert "observed:   Δ " in shown.output


def test_a_stack_pre_registers_its_largest_single_gain_and_its_factors_multiplied():
    rag, gain = applied(RAG), applied(INFO_GAIN)
    log = LogView(
        experiments=[
            summary(1, BASE, "kept", 1.0),
            summary(2, rag, "discarded", 2.0, delta=0.02),  # x2
            summary(3, gain, "discarded", 3.0, delta=0.03),  # x3
        ],
        best_id="001",
        best_agent=BASE,
        since_last_kept=2,
    )
    [stack] = HeuristicResearcher(plateau_after=2).propose_batch(log, [], 1)
    assert stack.hypothesis.startswith("Stacking what worked alone")
    assert stack.predicted_delta == 0.03
    assert stack.predicted_seconds == pytest.approx(1.0 * 2.0 * 3.0 * 10)


def test_any_agent_gets_seconds_from_a_fit_over_its_levers_drawn_to_their_priors():
    rag = applied(RAG)
    both = applied(INFO_GAIN, rag)
    priors = lever_priors(MOVES)
    assert (priors["rag"], priors["info_gain"]) == (2.0, 5.0)  # the moves that turn them on
    assert predict_seconds(LogView(best_agent=BASE), both, 10, priors) is None  # nothing timed
    log = LogView(
        experiments=[summary(1, BASE, "kept", 1.0), summary(2, rag, "discarded", 3.0)],
        best_id="001",
        best_agent=BASE,
    )
    # least squares over log(1) = base, log(3) = base + rag, and the prior log(2) = rag:
    # base = log(1.5)/3, rag = log(12)/3; info_gain was never timed, so its prior x5
    assert predict_seconds(log, rag, 10, priors) == pytest.approx(10 * 18 ** (1 / 3))
    assert predict_seconds(log, both, 10, priors) == pytest.approx(50 * 18 ** (1 / 3))
    assert predict_seconds(log, BASE, 30, priors) == pytest.approx(30 * 1.5 ** (1 / 3))


def test_proposals_without_a_prediction_get_one_at_planning():
    rag = applied(RAG)
    log = LogView(
        experiments=[summary(1, BASE, "kept", 1.0), summary(2, rag, "discarded", 3.0)],
        best_id="001",
        best_agent=BASE,
    )
    trial = Proposal(
        hypothesis="TPE trial", lever_class="rag", agent_patch={"levers": rag["levers"]}
    )
    assert costed(trial, log).predicted_seconds == round(10 * 18 ** (1 / 3), 1)
    own = trial.model_copy(update={"predicted_seconds": 7.0})
    assert costed(own, log).predicted_seconds == 7.0  # the researcher's own stands
    training = trial.model_copy(update={"training_request": TrainingRequest(rationale="r")})
    assert costed(training, log).predicted_seconds is None  # training is not a keep gate


@pytest.mark.slow
def test_a_random_search_run_records_predicted_seconds(tmp_path):
    root = Workspace.init(tmp_path / "ws", model="fake:planner", judge="fake:judge").main_root
    run_loop(root, experiments=3, researcher=RandomResearcher(seed=0))
    _, *trials = Workspace.open(root).records()
    assert trials and all(r.predicted_seconds for r in trials)
