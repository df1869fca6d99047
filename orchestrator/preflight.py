"""Checks a run makes before it spends anything: can every model, judge and researcher the
workspace names be resolved and loaded here, and is the ruler still the one it pinned?

`config_problems` lists what is wrong (one line each); `require_runnable` raises
`PreflightError` with that list (`run` exits 2); `spec_problems` is the lighter check `init`
makes on the specs it is given (known backends, known names), without asking for weights or keys.
"""

from __future__ import annotations

import os
import tempfile

from models import AutoresearchError
from models.registry import available_models, backends, get_model, parse_spec
from runlog.settings import CONFIG_NAME
from runlog.workspace import Workspace

OFFLINE_JUDGES = ("embedding", "offline")
KEY_ENV = {"anthropic": "ANTHROPIC_API_KEY"}


class PreflightError(AutoresearchError):
    """The workspace's configuration cannot run; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def model_spec_problem(spec: str, role: str) -> str:
    """Why `spec` does not name a model any backend knows ('' when it does)."""
    try:
        backend, _ = parse_spec(spec)
        if backend not in backends():
            known = ", ".join(sorted(backends()))
            return f"{role} {spec!r}: unknown model backend {backend!r}; known backends: {known}"
        get_model(spec)  # a backend checks the name here; weights load on first use
    except AutoresearchError as exc:
        return f"{role} {spec!r}: {exc}"
    return ""


def model_availability_problem(spec: str, role: str) -> str:
    """Why a known `spec` cannot run on this machine (weights not installed, no API key)."""
    info = next((i for i in available_models() if i.spec == spec), None)
    if info is not None and not info.available:
        return f"{role} {spec!r}: not available here ({info.reason or 'see autoresearch models'})"
    return ""


def judge_problem(spec: str, *, availability: bool) -> str:
    if spec in OFFLINE_JUDGES or spec.startswith("embedding:"):
        return ""
    return model_spec_problem(spec, "judge") or (
        model_availability_problem(spec, "judge") if availability else ""
    )


def researcher_problem(spec: str, *, availability: bool) -> str:
    from orchestrator.researchers import make_researcher

    try:
        make_researcher(spec, workspace=tempfile.gettempdir())  # a study path, never opened
    except AutoresearchError as exc:
        return f"researcher: {exc}"
    backend = spec.partition(":")[0]
    key = KEY_ENV.get(backend)
    if availability and key and not os.environ.get(key, "").strip():
        return f"researcher {spec!r}: set {key} (or use --researcher heuristic)"
    return ""


def spec_problems(
    model: str | None = None, judge: str | None = None, researcher: str | None = None
) -> list[str]:
    """What is wrong with the specs given to `init` (unknown backend or name)."""
    problems = [
        model_spec_problem(model, "model") if model else "",
        judge_problem(judge, availability=False) if judge else "",
        researcher_problem(researcher, availability=False) if researcher else "",
    ]
    return [p for p in problems if p]


def candidate_model(ws: Workspace) -> str:
    """The model the next experiment starts from: the best agent's, else the work tree's."""
    from levers.config import load_agent

    best = ws.current_best()
    if best is not None and best.record.agent.get("model"):
        return str(best.record.agent["model"])
    return load_agent(ws.agent_path).model


def ruler_problem(ws: Workspace) -> str:
    from ruler.loader import load_ruler

    pinned = ws.config.ruler.lock_hash
    try:
        ruler = load_ruler(ws.config.ruler.name)
        now = ruler.verify()
    except AutoresearchError as exc:
        return f"ruler {ws.config.ruler.name!r}: {exc}"
    if now != pinned:
        return (
            f"{ws.root / CONFIG_NAME}: ruler.lock_hash {pinned[:12]} is not the ruler "
            f"{ws.config.ruler.name!r} here ({now[:12]}); results would not compare"
        )
    return gate_problem(ws, ruler.splits)


def gate_problem(ws: Workspace, splits: dict[str, list[str]]) -> str:
    """A keep or confirm gate the workspace names that its ruler does not have."""
    keep = ws.config.keep
    for key, gate in (("keep.gate", keep.gate), ("keep.confirm_gate", keep.confirm_gate)):
        if gate and gate not in splits:
            return (
                f"{ws.root / CONFIG_NAME}: {key} {gate!r} is not a gate of ruler "
                f"{ws.config.ruler.name!r} ({', '.join(splits)}); set it to one of those"
            )
    return ""


def config_problems(
    ws: Workspace, researcher: str | None = None, *, check_researcher: bool = True
) -> list[str]:
    """Everything that would make a run fail at once, one line each ([] when it can run);
    `researcher` overrides the workspace's spec, `check_researcher=False` skips it (a
    researcher object given by the caller)."""
    try:
        model = candidate_model(ws)
        candidate = model_spec_problem(model, "candidate model") or model_availability_problem(
            model, "candidate model"
        )
    except AutoresearchError as exc:
        candidate = f"candidate agent: {exc}"
    problems = [
        candidate,
        judge_problem(ws.config.judge.spec, availability=True),
        researcher_problem(researcher or ws.config.researcher.spec, availability=True)
        if check_researcher
        else "",
        ruler_problem(ws),
    ]
    return [p for p in problems if p]


def require_runnable(
    ws: Workspace, researcher: str | None = None, *, check_researcher: bool = True
) -> None:
    """Raise `PreflightError` listing every problem `config_problems` finds."""
    problems = config_problems(ws, researcher, check_researcher=check_researcher)
    if problems:
        raise PreflightError(problems)
