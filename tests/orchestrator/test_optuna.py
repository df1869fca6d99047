"""The Optuna researcher: its space derived from `Params`, trials through the real graph, notes."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Literal

import optuna
import pytest
from pydantic import BaseModel, ConfigDict, Field

from levers.config import BASELINE_AGENT
from orchestrator.loop import run_loop
from orchestrator.researchers import make_researcher
from orchestrator.researchers.base import ExperimentSummary, LogView, apply_patch
from orchestrator.researchers.heuristic import canonical
from orchestrator.researchers.optuna import STUDY, OptunaResearcher, study_path
from orchestrator.researchers.random_search import RandomResearcher, Uniform
from orchestrator.researchers.space import (
    DECODING_BOUNDS,
    Constraint,
    derive_space,
    registered_space,
    sample_agent,
)
from runlog.workspace import Workspace

BASE = BASELINE_AGENT.model_dump(mode="json")
NEVER = 10**6


class ThirdParty(BaseModel):
    """A plugin lever's params: every kind of field the space reads, and some it cannot."""

    model_config = ConfigDict(extra="forbid")

    width: int = Field(4, ge=2, le=9)
    mix: float = Field(0.5, gt=0.0, le=1.0)
    style: Literal["terse", "warm"] = "terse"
    strict: bool = False
    label: str = "free text"  # no range: keeps its default
    seed: int = 0  # unbounded: keeps its default
    maybe: float | None = Field(None, ge=1.0, le=2.0)


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Needs(BaseModel):
    path: str  # required: the lever cannot be switched on from defaults


class OnlySampling(BaseModel):
    temperature: float | None = Field(None, ge=0.0, le=2.0)


def test_space_is_derived_from_params_bounds_literals_and_bools():
    space = derive_space(
        {
            "prompt": ("prompt", NoParams),
            "widget": ("multi_call", ThirdParty),
            "needy": ("rag", Needs),
            "temp": ("decoding", OnlySampling),
            "adapter": ("adapter", NoParams),
        }
    )
    assert list(space.classes) == ["prompt", "multi_call"]
    (widget,) = space.classes["multi_call"]
    knobs = {k.name: k for k in widget.knobs}
    assert set(knobs) == {"width", "mix", "style", "strict", "maybe"}
    assert (knobs["width"].kind, knobs["width"].low, knobs["width"].high) == ("int", 2, 9)
    assert knobs["mix"].kind == "float" and 0.0 < knobs["mix"].low < 0.01 and knobs["mix"].high == 1
    assert knobs["style"].choices == ("terse", "warm") and knobs["strict"].choices == (False, True)
    assert (knobs["maybe"].low, knobs["maybe"].high) == (1.0, 2.0)
    decoding = {k.name: (k.low, k.high) for k in space.decoding}
    assert set(decoding) == set(DECODING_BOUNDS)  # seed and stop have no range
    assert decoding["repetition_penalty"] == DECODING_BOUNDS["repetition_penalty"]


def test_the_registered_space_covers_every_builtin_lever_with_params():
    space = registered_space()
    names = {lv.name for levers in space.classes.values() for lv in levers}
    assert {"prompt", "rag", "multi_call", "self_critique"} <= names
    assert "adapter" not in names and "decoding" not in names  # training track; [decoding]
    rag = next(lv for lv in space.classes["rag"])
    assert {k.name: k.kind for k in rag.knobs} == {
        "k": "int",
        "method": "choice",
        "nearest_last": "choice",
    }


def walk(space, constraint: Constraint, n: int = 40) -> list[dict]:
    rng = random.Random(0)
    return [
        apply_patch(BASE, sample_agent(space, Uniform(rng), BASE, constraint)) for _ in range(n)
    ]


def test_sampled_agents_validate_and_keep_the_required_prompt():
    agents = walk(registered_space(), Constraint())
    for agent in agents:
        canonical(agent)  # validates (raises on a bad param)
        assert agent["levers"][0]["name"] == "prompt"
    assert len({canonical(a) for a in agents}) == len(agents)


def test_avoid_and_focus_notes_constrain_the_space():
    space = registered_space()
    avoid = Constraint.from_preferences(space, set(), {"rag", "prompt"}, {"prompt"})
    for agent in walk(space, avoid):
        assert "rag" not in {s["name"] for s in agent["levers"]}
        assert agent["levers"][0] == BASE["levers"][0]  # required: kept as it is, not searched
    focus = Constraint.from_preferences(space, {"rag"}, set(), {"prompt"})
    agents = walk(space, focus)
    for agent in agents:
        assert {s["name"] for s in agent["levers"]} <= {"prompt", "rag"}
        assert agent["decoding"] == BASE["decoding"]
    assert any("rag" in {s["name"] for s in a["levers"]} for a in agents)


# -- the researcher ---------------------------------------------------------------------------
@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return Workspace.init(tmp_path / "ws", model="fake:planner", judge="fake:judge").main_root


def summary(i: int, agent: dict, hypothesis: str = "h", status: str = "discarded"):
    return ExperimentSummary(
        id=f"{i:03d}", status=status, lever_class="other", hypothesis=hypothesis, agent=agent
    )


def log_of(experiments: list[ExperimentSummary], **kw) -> LogView:
    return LogView(experiments=experiments, best_id="001", best_agent=BASE, **kw)


def propose_many(researcher: OptunaResearcher, n: int, notes: list[str]) -> list[dict]:
    """Propose n times, each proposal recorded as a (failed) experiment of the log."""
    experiments = [summary(1, BASE, status="kept")]
    agents = []
    for i in range(n):
        proposal = researcher.propose(log_of(experiments), notes)
        agent = apply_patch(BASE, proposal.agent_patch)
        agents.append(agent)
        experiments.append(summary(i + 2, agent, proposal.hypothesis, status="failed"))
    return agents


def test_notes_reach_the_optuna_proposals(ws):
    researcher = OptunaResearcher(ws, plateau_after=NEVER, startup_trials=2)
    for agent in propose_many(researcher, 6, ["avoid rag", "avoid multi-call"]):
        assert not {"rag", "multi_call"} & {s["name"] for s in agent["levers"]}


def test_the_study_screens_each_lever_on_the_best_before_tpe_samples(ws):
    space = registered_space()
    levers = [lv.name for found in space.classes.values() for lv in found if lv.name != "prompt"]
    researcher = OptunaResearcher(ws, plateau_after=NEVER, space=space)
    agents = propose_many(researcher, len(levers) + 2, [])
    screened = agents[: len(levers)]
    for name, agent in zip(levers, screened, strict=True):
        on = {s["name"]: s.get("params", {}) for s in agent["levers"]}
        assert set(on) == {"prompt", name}, (name, on)  # the best (baseline) plus that lever
        assert agent.get("decoding") == BASE.get("decoding")
    study = optuna.load_study(study_name=STUDY, storage=researcher.storage_url)
    marks = [t.user_attrs.get("screen") for t in study.trials if not t.user_attrs.get("imported")]
    assert marks[: len(levers)] == levers and marks[len(levers) :] == [None, None]
    rag = next(t for t in study.trials if t.user_attrs.get("screen") == "rag")
    assert rag.params[next(k for k in rag.params if k.startswith("rag@"))] == "rag"  # for TPE


@pytest.mark.parametrize("screen", [True, False])
def test_the_choices_stay_when_the_best_gains_a_lever(ws, screen):
    """Optuna's categoricals may not change between trials: a kept rag lever in the best must
    not take `none` out of the rag class's choices (it did, and every other propose failed)."""
    researcher = OptunaResearcher(ws, plateau_after=NEVER, screen=screen, startup_trials=1)
    first = researcher.propose(log_of([summary(1, BASE, status="kept")]), [])  # rag may be none
    best = apply_patch(BASE, {"levers": [{"name": "prompt"}, {"name": "rag", "params": {"k": 3}}]})
    experiments = [
        summary(1, BASE, status="discarded"),
        summary(2, apply_patch(BASE, first.agent_patch), first.hypothesis, status="kept"),
        summary(3, best, status="kept"),
    ]
    for i in range(4):
        log = LogView(experiments=experiments, best_id="003", best_agent=best)
        proposal = researcher.propose(log, [])
        agent = apply_patch(best, proposal.agent_patch)
        experiments.append(summary(i + 4, agent, proposal.hypothesis, status="discarded"))
    assert len({canonical(e.agent) for e in experiments}) == len(experiments)


def test_the_screen_skips_avoided_classes(ws):
    researcher = OptunaResearcher(ws, plateau_after=NEVER)
    agents = propose_many(researcher, 3, ["avoid rag"])
    assert all("rag" not in {s["name"] for s in a["levers"]} for a in agents)
    assert {s["name"] for s in agents[0]["levers"]} == {"prompt", "multi_call"}


def test_a_trial_in_flight_in_a_parallel_round_is_not_told(ws):
    researcher = OptunaResearcher(ws, plateau_after=NEVER)
    log = log_of([summary(1, BASE, status="kept")])
    first = researcher.propose(log, [])
    running = summary(2, apply_patch(BASE, first.agent_patch), first.hypothesis, status="running")
    second = researcher.propose(log_of([*log.experiments, running]), [])
    study = optuna.load_study(study_name=STUDY, storage=researcher.storage_url)
    assert study.trials[trial_number(first.hypothesis)].state.name == "RUNNING"
    assert trial_number(second.hypothesis) != trial_number(first.hypothesis)


def test_an_asked_trial_never_recorded_is_proposed_again_not_asked_anew(ws):
    researcher = OptunaResearcher(ws, plateau_after=NEVER)
    log = log_of([summary(1, BASE, status="kept")])
    first = researcher.propose(log, [])
    again = researcher.propose(log, [])  # the first never reached the run log (a crash)
    assert again == first and first.hypothesis.startswith("Optuna trial ")
    study = optuna.load_study(study_name=STUDY, storage=researcher.storage_url)
    assert [t.state.name for t in study.trials].count("RUNNING") == 1


def trial_number(hypothesis: str) -> int:
    return int(hypothesis.split(":")[0].removeprefix("Optuna trial "))


def test_a_failed_experiment_is_told_fail(ws):
    researcher = OptunaResearcher(ws, plateau_after=NEVER)
    log = log_of([summary(1, BASE, status="kept")])
    first = researcher.propose(log, [])
    failed = summary(2, apply_patch(BASE, first.agent_patch), first.hypothesis, status="failed")
    second = researcher.propose(log_of([*log.experiments, failed]), [])
    study = optuna.load_study(study_name=STUDY, storage=researcher.storage_url)
    assert study.trials[trial_number(first.hypothesis)].state.name == "FAIL"
    assert trial_number(second.hypothesis) > trial_number(first.hypothesis)


def test_a_plateau_asks_for_training_like_the_heuristic(ws):
    researcher = OptunaResearcher(ws, plateau_after=2)
    experiments = [summary(1, BASE, status="kept"), summary(2, {}), summary(3, {})]
    proposal = researcher.propose(log_of(experiments, since_last_kept=2), [])
    assert proposal.training_request is not None and proposal.training_request.kind == "sft"
    asked = log_of(experiments, since_last_kept=2, training_requests=1)
    assert researcher.propose(asked, []).hypothesis.startswith("Optuna trial ")


@pytest.mark.slow  # the real graph, trial after trial (~9 s)
def test_trials_run_through_the_real_graph_and_are_told_their_dev_quality(ws):
    researcher = OptunaResearcher(ws, plateau_after=NEVER, startup_trials=2)
    run_loop(ws, experiments=4, researcher=researcher)
    researcher.propose(researcher_log(ws), [])  # reconciles the last recorded experiment
    records = Workspace.open(ws).records()
    assert len({canonical(r.agent) for r in records}) == len(records) == 4
    study = optuna.load_study(study_name=STUDY, storage=f"sqlite:///{study_path(ws)}")
    done = {t.number: t for t in study.trials if t.state.name == "COMPLETE"}
    for record in records[1:]:
        number = trial_number(record.hypothesis)
        dev = next(g for g in record.gates if g.gate == "dev-10")
        assert done[number].value == pytest.approx(dev.quality)
    imported = [t for t in study.trials if t.user_attrs.get("imported")]
    assert [t.user_attrs["experiment"] for t in imported] == ["001"]  # the baseline, once


def researcher_log(ws: Path) -> LogView:
    from orchestrator.services import WorkspaceServices

    return WorkspaceServices(Workspace.open(ws), RandomResearcher()).log_view()


def test_the_factory_builds_the_search_researchers(ws):
    assert make_researcher("optuna", ws).name == "optuna"
    assert make_researcher("random").name == "random"
    with pytest.raises(Exception, match="needs a workspace"):
        make_researcher("optuna")


def test_random_search_draws_the_same_space_without_repeats_and_honours_notes():
    researcher = RandomResearcher(plateau_after=NEVER)
    experiments = [summary(1, BASE, status="kept")]
    for i in range(6):
        proposal = researcher.propose(log_of(experiments), ["avoid self_critique"])
        agent = apply_patch(BASE, proposal.agent_patch)
        assert "self_critique" not in {s["name"] for s in agent["levers"]}
        assert canonical(agent) not in {canonical(e.agent) for e in experiments}
        experiments.append(summary(i + 2, agent, proposal.hypothesis))
