"""The research tools: plain, documented functions over a workspace that a researcher calls.

`ResearchTools(ws, ...)` offers exactly `results()`, `experiment(id)`, `read_source(path)`,
`notes()`, `write_lever(filename, code)`, `try_agent(agent_patch, n)` and `submit(...)`; every
answer is text (JSON where structured), and every answer passes through the sealed holdout
(`Holdout.seal`), so no sealed case's task and no gold question can leave this layer. Per-case
detail (candidate plan, scores, rationale) is given for the keep gate's cases only; the rest of
the ruler reaches the researcher as aggregates. `TOOL_SPECS` are the same functions as
Anthropic tool definitions.

A lever written here is staged (under `.autoresearch/research/<experiment>/levers/`) and
validated inside the proposed agent in a temporary copy of `agent/`; it reaches `agent/levers/`
when the experiment that submits it runs, so an abandoned draft never breaks the agent.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from levers.config import AgentConfig, dump_agent
from levers.validate import (
    SMOKE_MODEL,
    Smoke,
    ValidationReport,
    smoke_models,
    validate_lever,
)
from orchestrator.researchers.base import LogView, Proposal, TrainingRequest, apply_patch
from orchestrator.researchers.claude.holdout import Holdout
from runlog.records import ExperimentRecord
from runlog.tags import experiment_commits
from runlog.views import agent_diff
from runlog.workspace import Workspace

MAX_TRIAL_CASES = 3
LEVER_FILE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\.py")
SOURCE_LIMIT = 20_000
TEXT_LIMIT = 1_500  # lever-controlled text (outputs, errors) a tool answer carries
TOOL_NAMES = (
    "results",
    "experiment",
    "read_source",
    "notes",
    "write_lever",
    "try_agent",
    "submit",
)


def _bounded(text: str, limit: int = TEXT_LIMIT) -> str:
    return text if len(text) <= limit else text[:limit] + f" … [{len(text) - limit} chars cut]"


class ToolError(ValueError):
    """A tool called with bad arguments: the message goes back to the researcher."""


@dataclass
class ToolAnswer:
    """A tool's text for the researcher, what it cost, and (for submit) the proposal."""

    text: str
    cost_usd: float = 0.0
    proposal: Proposal | None = None


@dataclass
class ResearchTools:
    """The tools over one workspace, for one research turn (see the module docstring)."""

    ws: Workspace
    holdout: Holdout
    log: LogView
    exp_id: str = "draft"  # drafts are staged per experiment (a resumed turn finds its own)
    judge: str = "fake:judge"
    trial_timeout: float = 300.0
    # the earlier experiment that ran exactly this proposal's agent (config and lever code)
    repeat_of: Callable[[Proposal], str | None] = field(default=lambda proposal: None)

    # -- reading ---------------------------------------------------------------------------
    def results(self) -> str:
        """results.tsv, then each experiment's status and the reason it was kept, discarded or
        failed."""
        rows = [
            {"id": r.id, "status": r.status, "reason": r.decision or r.failure}
            for r in self.ws.records()
        ]
        tsv = self.ws.results_path.read_text() if self.ws.results_path.exists() else ""
        return f"{tsv or '(no experiments yet)'}\n\nreasons:\n{json.dumps(rows, indent=1)}"

    def experiment(self, id: str) -> str:  # noqa: A002 - the tool's published argument name
        """One experiment: its record, the agent diff against its parent, the keep/discard
        reason, and per case of the keep gate only: candidate plan, scores and rationale."""
        try:
            record = self.ws.record(str(id))
        except Exception as exc:
            raise ToolError(f"no experiment {id!r}: {exc}") from None
        commit = experiment_commits(self.ws).get(record.id)
        return json.dumps(
            {
                "record": _record_summary(record),
                "diff": agent_diff(self.ws, commit) if commit else "",
                "cases": self._visible_cases(record.id),
            },
            indent=1,
            default=str,
        )

    def _visible_cases(self, exp: str) -> list[dict[str, Any]]:
        try:
            rows = self.ws.outputs(exp)
        except Exception:  # an experiment that failed before its gates has no outputs
            return []
        return [
            {
                "case": row.case_id,
                "input": self.holdout.tasks.get(row.case_id, ""),
                ("plan" if self.log.feature.planner else "answer"): row.plan,
                "failed": row.failed,
                "verdicts": [
                    {"scores": v.scores, "outcome": v.outcome, "rationale": v.rationale}
                    for v in row.verdicts
                ],
            }
            for row in rows
            if self.holdout.visible(row.case_id)
        ]

    def read_source(self, path: str) -> str:
        """A file under the workspace's `agent/`, or `lever:<name>`: the source of any installed
        lever (built-in, third-party or the workspace's own). Read-only."""
        if path.startswith("lever:"):
            return self._lever_source(path.removeprefix("lever:"))
        agent_dir = self.ws.agent_dir.resolve()
        relative = path.removeprefix("agent/")
        target = (agent_dir / relative).resolve()
        staged = self.staging / Path(relative).name
        if relative.startswith("levers/") and not target.exists() and staged.is_file():
            target = staged  # a lever drafted in this research, not yet part of the agent
        elif not target.is_relative_to(agent_dir):
            raise ToolError(f"{path}: only files under agent/ or lever:<name> can be read")
        if target.is_dir():
            return "\n".join(sorted(p.name for p in target.iterdir()))
        if not target.is_file():
            raise ToolError(f"{path}: no such file under agent/")
        return target.read_text(encoding="utf-8", errors="replace")[:SOURCE_LIMIT]

    def _lever_source(self, name: str) -> str:
        """A lever's source, found by a pipeline process (no lever module is imported here).
        The path it reports is lever-controlled (a forged `__module__`), so it is read only when
        it is a Python file the lever's own sandbox could read: never the ruler's files."""
        from levers.pipeline import describe_levers
        from levers.sandbox import lever_source_readable

        levers_dir = self.ws.agent_dir / "levers"
        infos = describe_levers(levers_dir)
        if name not in infos:
            raise ToolError(f"no lever {name!r}; installed: {', '.join(sorted(infos))}")
        source = infos[name].get("source")
        if not source:
            raise ToolError(f"lever {name!r} has no source file")
        if not lever_source_readable(Path(source), self.ws.agent_dir):
            raise ToolError(f"lever {name!r} names a source that is not a lever file: refused")
        return Path(source).read_text(encoding="utf-8")[:SOURCE_LIMIT]

    def notes(self) -> str:
        """Every supervisor note ever given (when, and before which experiment), and every
        training request with its decision."""
        finished = [r.finished_at for r in self.ws.records()]
        notes = [
            {
                "time": e.time.isoformat(timespec="seconds"),
                "before_experiment": f"{sum(t <= e.time for t in finished) + 1:03d}",
                "text": e.payload.get("text", ""),
            }
            for e in self.ws.events("note")
        ]
        kinds = ("approval_request", "approved", "denied", "training_done", "refused")
        requests = [
            {"time": e.time.isoformat(timespec="seconds"), "kind": e.kind, **e.payload}
            for e in self.ws.events()
            if e.kind in kinds
        ]
        answer = {
            "notes": notes,
            "training_requests": requests,
            "trainable_here": self.log.trainable_here,
            "trainable_reason": self.log.trainable_reason,
        }
        return json.dumps(answer, indent=1, default=str)

    # -- writing and trying ----------------------------------------------------------------
    @property
    def staging(self) -> Path:
        return self.ws.state_dir / "research" / self.exp_id / "levers"

    def clear_other_drafts(self) -> None:
        """Remove the drafts of earlier experiments' turns (this experiment's stay)."""
        root = self.ws.state_dir / "research"
        for folder in root.iterdir() if root.is_dir() else ():
            if folder.is_dir() and folder.name != self.exp_id:
                shutil.rmtree(folder, ignore_errors=True)

    def write_lever(self, filename: str, code: str) -> str:
        """Stage a lever module and validate it inside the proposed agent (the best agent with
        the lever enabled): parse, import, registration, one smoke case on a training-pool task
        (fake model, and the real candidate when it is a local model). Returns the report."""
        if not LEVER_FILE.fullmatch(filename or ""):
            raise ToolError(f"{filename!r}: a lever file name is a python identifier + .py")
        self.staging.mkdir(parents=True, exist_ok=True)
        (self.staging / filename).write_text(code, encoding="utf-8")
        report = self.validate(filename, None)
        return report.line() if report.ok else f"FAILED {report.line()}"

    @property
    def holdout_ruler(self) -> Any:
        from runlog.evaluate import workspace_ruler

        return workspace_ruler(self.ws)

    def validate(self, filename: str, agent_patch: dict[str, Any] | None) -> ValidationReport:
        """Validate staged `filename` in best + patch (None: best with the lever appended)."""
        with tempfile.TemporaryDirectory(prefix="autoresearch-lever-") as tmp:
            agent_dir = self._agent_copy(Path(tmp), [filename])
            path = agent_dir / "levers" / filename
            names = _declared_names(path.read_text(encoding="utf-8"))
            agent = self._agent(agent_patch, names)
            (agent_dir / "agent.toml").write_text(_agent_toml(agent), encoding="utf-8")
            smoke = Smoke(
                agent=agent,
                task=self._pool_task(),
                models=self.smoke_models(),
                feature=None if self.log.feature.planner else self.log.feature.model_dump(),
            )
            timeout = 25.0 if smoke.models == [SMOKE_MODEL] else 300.0
            report = validate_lever(path, smoke=smoke, timeout=timeout)
        return report.model_copy(update={"path": f"agent/levers/{filename}"})

    def _agent(self, patch: dict[str, Any] | None, names: list[str]) -> dict[str, Any]:
        agent = copy.deepcopy(self.log.best_agent)
        if patch is not None:
            return apply_patch(agent, patch)
        levers = agent.setdefault("levers", [])
        for name in names:
            if not any(spec.get("name") == name for spec in levers):
                levers.append({"name": name, "params": {}})
        return agent

    def _agent_copy(self, dest: Path, filenames: list[str]) -> Path:
        """A copy of `agent/` with the staged lever files added (under dest/agent)."""
        agent_dir = dest / "agent"
        shutil.copytree(self.ws.agent_dir, agent_dir, ignore=shutil.ignore_patterns("__pycache__"))
        (agent_dir / "levers").mkdir(exist_ok=True)
        for name in filenames:
            staged = self.staging / name
            if not staged.is_file():
                raise ToolError(
                    f"no lever {name!r} was written in this research; write_lever first"
                )
            shutil.copy(staged, agent_dir / "levers" / name)
        return agent_dir

    def smoke_models(self) -> list[str]:
        """The fake model, and the real candidate too when it runs on this machine."""
        return smoke_models(str(self.log.best_agent.get("model", "")))

    def _pool_task(self) -> str:
        from levers.training.data import load_training_pool

        pool = load_training_pool(limit=1, feature=self.log.feature)
        return pool[0].task if pool else Smoke.model_fields["task"].default

    def try_agent(self, agent_patch: dict[str, Any], n: int = 1) -> ToolAnswer:
        """Run best + agent_patch on up to 3 training-pool tasks (never ruler cases) with the real
        candidate and the offline judge; returns outputs and scores. Its cost is the turn's."""
        from levers.pipeline import PipelineError, run_once
        from levers.runner import CandidateRun, Task
        from levers.training.data import load_training_pool
        from ruler.judges import get_judge

        if not isinstance(agent_patch, dict):
            raise ToolError("agent_patch must be a JSON object")
        n = max(1, min(int(n), MAX_TRIAL_CASES))
        agent = apply_patch(copy.deepcopy(self.log.best_agent), agent_patch)
        staged = sorted(p.name for p in self.staging.glob("*.py")) if self.staging.is_dir() else []
        cases = load_training_pool(limit=n, feature=self.log.feature)
        with tempfile.TemporaryDirectory(prefix="autoresearch-trial-") as tmp:
            agent_dir = self._agent_copy(Path(tmp), staged)
            (agent_dir / "agent.toml").write_text(_agent_toml(agent), encoding="utf-8")
            try:  # the draft runs in a sandboxed worker of its own; the judge runs here
                raw = run_once(
                    agent,
                    [Task.of(c).model_dump() for c in cases],
                    agent_dir,
                    self.ws.main_root,
                    self.trial_timeout,
                    feature=None if self.log.feature.planner else self.log.feature,
                )
                runs = [CandidateRun.model_validate(r) for r in raw["runs"]]
            except (PipelineError, ValueError) as exc:
                raise ToolError(f"the trial failed: {_bounded(str(exc))}") from None
        judge = get_judge(self.judge, ruler=self.holdout_ruler)
        verdicts = judge.judge_many([(c, r.text) for c, r in zip(cases, runs, strict=True)])
        model_cost = sum(node.cost_usd or 0.0 for r in runs for node in r.trace)
        result = {
            "model": agent.get("model"),
            "judge": self.judge,
            "cases": [
                {
                    "task": case.task,
                    "output": _bounded(run.text),
                    "error": _bounded(run.error),
                    "scores": verdict.scores,
                    "outcome_vs_gold": verdict.outcome,
                    "rationale": _bounded(verdict.rationale),
                }
                for case, run, verdict in zip(cases, runs, verdicts, strict=True)
            ],
            "cost_usd": round(model_cost + sum(v.cost_usd for v in verdicts), 6),
        }
        return ToolAnswer(json.dumps(result, indent=1), cost_usd=result["cost_usd"])

    # -- the end of the turn ---------------------------------------------------------------
    def submit(
        self,
        hypothesis: str,
        method: str,
        lever_class: str,
        agent_patch: dict[str, Any] | None = None,
        lever_filename: str | None = None,
        predicted_delta: float | None = None,
        training_request: dict[str, Any] | None = None,
    ) -> ToolAnswer:
        """Submit the experiment: the patch merged over the best agent, the lever written with
        write_lever (if any), the predicted Δ quality on the keep gate, or a training request."""
        patch = agent_patch or {}
        if not isinstance(patch, dict):
            raise ToolError("agent_patch must be a JSON object")
        try:
            request = TrainingRequest.model_validate(training_request) if training_request else None
        except ValidationError as exc:
            raise ToolError(f"training_request: {_first_error(exc)}") from None
        if request is not None and self.log.trainable_here is False:
            raise ToolError(f"training is not possible here: {self.log.trainable_reason}")
        code = None
        if lever_filename:
            report = self.validate(lever_filename, patch)
            if not report.ok:
                return ToolAnswer(f"NOT SUBMITTED: the lever fails in this agent: {report.line()}")
            code = (self.staging / lever_filename).read_text(encoding="utf-8")
        proposal = Proposal(
            hypothesis=hypothesis.strip() or "(no hypothesis given)",
            method=method,
            lever_class=lever_class,
            agent_patch=patch,
            lever_code=code,
            lever_filename=lever_filename or None,
            training_request=request,
            predicted_delta=predicted_delta,
        )
        if request is None and (earlier := self.repeat_of(proposal)):
            return ToolAnswer(
                f"NOT SUBMITTED: this agent is the one experiment {earlier} already ran; "
                "never repeat a configuration"
            )
        return ToolAnswer("submitted", proposal=proposal)

    # -- dispatch --------------------------------------------------------------------------
    def call(self, name: str, arguments: dict[str, Any]) -> ToolAnswer:
        """Run tool `name`; a bad call's error is the answer. Every text is sealed."""
        method = getattr(self, name, None) if name in TOOL_NAMES else None
        if method is None:
            answer = ToolAnswer(f"ERROR: no tool {name!r}; tools: {', '.join(TOOL_NAMES)}")
        else:
            try:
                result = method(**arguments)
                answer = result if isinstance(result, ToolAnswer) else ToolAnswer(str(result))
            except (ToolError, TypeError) as exc:
                answer = ToolAnswer(f"ERROR: {exc}")
            except Exception as exc:  # a tool's failure is the researcher's to read, not a crash
                first = (str(exc).strip().splitlines() or [""])[0][:300]
                answer = ToolAnswer(f"ERROR: {name} failed: {type(exc).__name__}: {first}")
        answer.text = self.holdout.seal(answer.text)
        return answer


def _record_summary(record: ExperimentRecord) -> dict[str, Any]:
    """The record as a researcher sees it: aggregates of every gate, no per-case detail."""
    return {
        "id": record.id,
        "status": record.status,
        "hypothesis": record.hypothesis,
        "method": record.method,
        "lever_class": record.lever_class,
        "agent": record.agent,
        "decision": record.decision,
        "failure": record.failure,
        "predicted_delta": record.predicted_delta,
        "cost_usd": record.cost_usd,
        "gates": [
            {
                "gate": g.gate,
                "quality": g.quality,
                "dimension_means": g.dimension_means,
                "wins": g.wins,
                "ties": g.ties,
                "losses": g.losses,
                "delta_vs_best": g.comparison.delta if g.comparison else None,
            }
            for g in record.gates
        ],
    }


def _declared_names(code: str) -> list[str]:
    """The `name = "..."` lever names a module declares (to enable it in the trial agent)."""
    return re.findall(r"^\s+name\s*=\s*[\"']([A-Za-z0-9_\-]+)[\"']", code, re.MULTILINE)


def _agent_toml(agent: dict[str, Any]) -> str:
    try:
        return dump_agent(AgentConfig.model_validate(agent))
    except ValidationError as exc:
        raise ToolError(f"the patched agent is not valid: {_first_error(exc)}") from None


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    return f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
