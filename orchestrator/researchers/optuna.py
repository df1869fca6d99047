"""`OptunaResearcher`: multivariate TPE over the lever space, one trial per experiment.

The space is derived from the registered levers' `Params` (see `space`). The study lives in
the workspace, `.autoresearch/optuna.sqlite` (Optuna's RDB storage; `optuna-dashboard
sqlite:///<workspace>/.autoresearch/optuna.sqlite` opens it). Each proposal is one asked trial
whose hypothesis begins `Optuna trial N:`, so the run log names its trial.

Every propose first reconciles the study with the run log: a trial whose experiment is recorded
is told its keep-gate (dev-10) quality, the figure every experiment has, or FAIL when the
experiment failed; a trial asked but never recorded (the loop was killed, or the supervisor
denied it) is proposed again instead of asking a new one. So a `kill -9` anywhere loses no
trial and repeats none. Experiments the study does not know yet (the baseline, another
researcher's) are added as finished trials when the space can express their agent. A sampled
agent that has already run is told that run's value and sampled again: no configuration runs
twice.

Before TPE samples, the study screens: one enqueued trial per lever of the space, the best
agent with that lever switched on at its defaults (in the space's order; each builds on the
best at its time, so a kept lever stays under the next). Uniform startup draws over the whole
space mostly land on stacks of costly multi-call levers, and a handful of them tells TPE little;
the screen gives it one informative point per lever, at the price of one experiment each.

The baseline, trained adapters and the plateau's training request are the heuristic
researcher's (`HeuristicResearcher.untried_adapter`, `.request_training`).
"""

from __future__ import annotations

import logging
import re
import warnings
from pathlib import Path
from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.exceptions import ExperimentalWarning
from optuna.trial import FrozenTrial, TrialState

from orchestrator.researchers.base import ExperimentSummary, LogView, Proposal, apply_patch
from orchestrator.researchers.heuristic import HeuristicResearcher, canonical, preferences
from orchestrator.researchers.space import (
    NONE,
    Constraint,
    SearchesLeverSpace,
    SearchSpace,
    lever_choice_name,
    required_classes,
    sample_agent,
)
from runlog.workspace import Workspace

STUDY = "autoresearch"
TRIAL_TAG = re.compile(r"^Optuna trial (\d+):")


def study_path(workspace: Path | str) -> Path:
    return Path(workspace) / ".autoresearch" / "optuna.sqlite"


class Unrepresentable(ValueError):
    """An agent the space cannot express (a value outside its ranges or choices)."""


class Replay:
    """A `Suggest` that answers from a recorded agent's values, noting each distribution."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values
        self.params: dict[str, Any] = {}
        self.distributions: dict[str, BaseDistribution] = {}

    def _take(self, name: str, dist: BaseDistribution, inside: bool) -> Any:
        value = self.values.get(name)
        if value is None:  # unset (`top_p = None`): the trial leaves the parameter out
            return None
        if not inside:
            raise Unrepresentable(f"{name}={value!r} is outside {dist}")
        self.params[name], self.distributions[name] = value, dist
        return value

    def _in_range(self, name: str, low: float, high: float) -> bool:
        value = self.values.get(name)
        return isinstance(value, int | float) and low <= value <= high

    def suggest_float(self, name: str, low: float, high: float) -> float:
        inside = self._in_range(name, low, high)
        return self._take(name, FloatDistribution(low, high), inside)

    def suggest_int(self, name: str, low: int, high: int) -> int:
        inside = self._in_range(name, low, high) and float(self.values[name]).is_integer()
        return self._take(name, IntDistribution(low, high), inside)

    def suggest_categorical(self, name: str, choices: Any) -> Any:
        inside = self.values.get(name) in choices
        return self._take(name, CategoricalDistribution(choices), inside)


def agent_values(space: SearchSpace, agent: dict[str, Any]) -> dict[str, Any]:
    """The space's parameter values that describe `agent` (defaults where its params omit)."""
    on = {s["name"]: s.get("params", {}) for s in agent.get("levers", []) if s.get("enabled", 1)}
    values: dict[str, Any] = {}
    for cls, candidates in space.classes.items():
        chosen = next((lv for lv in candidates if lv.name in on), None)
        values[lever_choice_name(cls, candidates)] = chosen.name if chosen else NONE
        for knob in chosen.knobs if chosen else ():
            values[f"{chosen.name}.{knob.name}"] = on[chosen.name].get(knob.name, knob.default)
    decoding = agent.get("decoding", {})
    for knob in space.decoding:
        values[f"decoding.{knob.name}"] = decoding.get(knob.name, knob.default)
    return values


def pin(trial: optuna.Trial, name: str, dist: BaseDistribution) -> None:
    """Walk one enqueued (fixed) parameter, so the trial records it with its distribution."""
    if isinstance(dist, FloatDistribution):
        trial.suggest_float(name, dist.low, dist.high)
    elif isinstance(dist, IntDistribution):
        trial.suggest_int(name, dist.low, dist.high)
    else:
        trial.suggest_categorical(name, dist.choices)


def keep_gate(workspace: Path) -> tuple[str, dict[str, float]]:
    """The keep gate's name and each recorded experiment's quality on it."""
    ws = Workspace.open(workspace, repair=False)  # a read: the loop owns repairs
    gate = ws.config.keep.gate
    quality = {}
    for record in ws.records():
        result = next((g for g in record.gates if g.gate == gate), None)
        if result is not None:
            quality[record.id] = result.quality
    return gate, quality


class OptunaResearcher(SearchesLeverSpace):
    name = "optuna"

    def __init__(
        self,
        workspace: Path | str,
        *,
        seed: int = 0,
        startup_trials: int = 4,
        plateau_after: int = 4,
        training_kind: str = "sft",
        training_steps: int = 60,
        space: SearchSpace | None = None,
        max_resamples: int = 200,
        screen: bool = True,
    ) -> None:
        self.root = Path(workspace)
        self.seed = seed
        self.startup_trials = startup_trials
        self.screen = screen
        self.max_resamples = max_resamples
        self.track = HeuristicResearcher(plateau_after, training_kind, training_steps)
        self._space = space

    @property
    def storage_url(self) -> str:
        return f"sqlite:///{study_path(self.root)}"

    def study(self) -> optuna.Study:
        """The workspace's study; the sampler's seed moves on with the trials, so a resumed
        or re-created sampler does not draw the same points again."""
        optuna.logging.set_verbosity(logging.WARNING)
        warnings.filterwarnings("ignore", category=ExperimentalWarning)  # TPE's `group`
        study_path(self.root).parent.mkdir(parents=True, exist_ok=True)
        storage = optuna.storages.RDBStorage(self.storage_url)
        done = 0
        if STUDY in {s.study_name for s in optuna.get_all_study_summaries(storage)}:
            done = len(optuna.load_study(study_name=STUDY, storage=storage).trials)
        sampler = optuna.samplers.TPESampler(
            multivariate=True,
            group=True,
            seed=self.seed + done,
            n_startup_trials=self.startup_trials,
        )
        return optuna.create_study(
            study_name=STUDY,
            storage=storage,
            sampler=sampler,
            direction="maximize",
            load_if_exists=True,
        )

    # -- proposing -------------------------------------------------------------------------
    def propose(self, log: LogView, notes: list[str]) -> Proposal:
        if not log.experiments:
            return self.track.propose(log, notes)  # the baseline
        self.fit_feature(log.feature.name)
        if proposal := self.track.untried_adapter(log):
            return proposal
        if log.since_last_kept >= self.track.plateau_after and self.track.may_request(log):
            return self.track.request_training(log)
        study = self.study()
        pending = self.reconcile(study, log)
        tried = {canonical(e.agent): e for e in log.experiments if e.agent}
        for trial in pending:
            patch = trial.user_attrs.get("agent_patch", {})
            if canonical(apply_patch(log.best_agent, patch)) not in tried:
                return self._proposal(trial.number, patch, log, trial.user_attrs.get("screen", ""))
            study.tell(trial.number, state=TrialState.FAIL)  # superseded: its agent has run
        return self._ask(study, log, notes, tried)

    def _ask(
        self, study: optuna.Study, log: LogView, notes: list[str], tried: dict[str, Any]
    ) -> Proposal:
        focus, avoid = preferences([*log.notes_history, *notes])
        required = required_classes(self.space)
        constraint = Constraint.from_preferences(self.space, focus, avoid, required)
        if self.screen and (proposal := self._screen(study, log, constraint, tried)):
            return proposal
        _, quality = keep_gate(self.root)
        for _ in range(self.max_resamples):
            trial = study.ask()
            patch = sample_agent(self.space, trial, log.best_agent, constraint)
            key = canonical(apply_patch(log.best_agent, patch))
            if (earlier := tried.get(key)) is None:
                trial.set_user_attr("agent_patch", patch)
                return self._proposal(trial.number, patch, log)
            trial.set_user_attr("duplicate_of", earlier.id)  # told what it got, never re-run
            self._tell(study, trial.number, earlier, quality)
        return self.track.request_training(log)

    def _screen(
        self, study: optuna.Study, log: LogView, constraint: Constraint, tried: dict[str, Any]
    ) -> Proposal | None:
        """The next lever no trial has screened, as an enqueued trial: the best agent with that
        lever on at its defaults (replacing its class's lever). None once all are screened."""
        screened = {t.user_attrs.get("screen") for t in study.get_trials(deepcopy=False)}
        best = agent_values(self.space, log.best_agent)
        for cls, candidates in self.space.classes.items():
            if cls in constraint.keep | constraint.off:
                continue
            for lever in candidates:
                if lever.name in screened:
                    continue
                values = {f"{lever.name}.{k.name}": k.default for k in lever.knobs}
                values[lever_choice_name(cls, candidates)] = lever.name
                replay = Replay({**best, **values})
                try:
                    patch = sample_agent(self.space, replay, log.best_agent, Constraint())
                except Unrepresentable:
                    continue
                if canonical(apply_patch(log.best_agent, patch)) in tried:
                    continue
                patch = {"levers": patch["levers"]}  # the best's decoding, as it is
                study.enqueue_trial(
                    replay.params, user_attrs={"screen": lever.name, "agent_patch": patch}
                )
                trial = study.ask()
                for name, dist in replay.distributions.items():
                    pin(trial, name, dist)
                return self._proposal(trial.number, patch, log, screen=lever.name)
        return None

    def _proposal(
        self, number: int, patch: dict[str, Any], log: LogView, screen: str = ""
    ) -> Proposal:
        on = [s["name"] for s in patch.get("levers", [])]
        decoding = ", ".join(
            f"{k} {v:.3g}" for k, v in patch.get("decoding", {}).items() if v is not None
        )
        classes = {log.levers.get(n, {}).get("lever_class", "other") for n in on} - {"prompt"}
        if screen:
            classes = {log.levers.get(screen, {}).get("lever_class", "other")}
        return Proposal(
            hypothesis=f"Optuna trial {number}: "
            + (f"screen {screen} at its defaults on the best; " if screen else "")
            + f"levers {' + '.join(on) or 'none'}"
            + (f"; decoding {decoding}" if decoding else ""),
            method=f"Multivariate TPE over the lever space (trial {number} of the workspace's "
            "study); run dev-10, then full-30 if promising.",
            lever_class=sorted(classes)[0] if len(classes) == 1 else "other",
            agent_patch=patch,
        )

    # -- the study and the run log ---------------------------------------------------------
    def reconcile(self, study: optuna.Study, log: LogView) -> list[FrozenTrial]:
        """Tell every trial whose experiment is recorded; import untracked experiments; the
        trials still waiting for their experiment (asked, never recorded), oldest first."""
        _, quality = keep_gate(self.root)
        by_trial = {
            int(m.group(1)): e for e in log.experiments if (m := TRIAL_TAG.match(e.hypothesis))
        }
        pending = []
        for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            if (experiment := by_trial.get(trial.number)) is None:
                pending.append(trial)
            elif experiment.status != "running":  # in flight in a parallel round: not yet
                self._tell(study, trial.number, experiment, quality)
        self._import(study, log, by_trial, quality)
        return pending

    def _tell(
        self, study: optuna.Study, number: int, experiment: ExperimentSummary, quality: dict
    ) -> None:
        value = quality.get(experiment.id)
        if experiment.status == "failed" or value is None:
            study.tell(number, state=TrialState.FAIL)
        else:
            study.tell(number, value)

    def _import(
        self,
        study: optuna.Study,
        log: LogView,
        by_trial: dict[int, ExperimentSummary],
        quality: dict[str, float],
    ) -> None:
        """Add the experiments no trial ran (baseline, other researchers') as finished trials."""
        known = {t.user_attrs.get("experiment") for t in study.get_trials(deepcopy=False)}
        ours = {e.id for e in by_trial.values()}
        for experiment in log.experiments:
            value = quality.get(experiment.id)
            if experiment.id in known | ours or value is None or experiment.status == "failed":
                continue
            replay = Replay(agent_values(self.space, experiment.agent))
            try:
                sample_agent(self.space, replay, experiment.agent, Constraint())
            except Unrepresentable:
                continue
            study.add_trial(
                optuna.trial.create_trial(
                    params=replay.params,
                    distributions=replay.distributions,
                    value=value,
                    user_attrs={"experiment": experiment.id, "imported": True},
                )
            )

    def repair(self, proposal: Proposal, report: str) -> Proposal | None:
        return None  # it writes no lever files
