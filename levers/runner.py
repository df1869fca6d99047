"""Run an agent on cases: one thread per case through the five stages, calls batched, traced."""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pluggy
from pydantic import BaseModel, ConfigDict, Field

from levers import hookspecs
from levers.batching import CallBatcher
from levers.config import AgentConfig, validate_agent
from levers.context import Context
from levers.feature import PLANNER, FeatureSpec, json_answer
from levers.lever import Lever
from levers.registry import check_fits, lever_classes
from levers.trace import STAGES, TraceNode
from models.base import Completion, Message
from ruler.plan import ParsedPlan, parse_plan
from ruler.records import Case

Progress = Callable[[int, int], None]


class Task(BaseModel):
    """What a lever process is given of a case: its id and its input, never its gold."""

    model_config = ConfigDict(extra="forbid")

    id: str
    task: str

    @classmethod
    def of(cls, case: Case | Task) -> Task:
        return cls(id=case.id, task=case.task)


class CandidateRun(BaseModel):
    """One case's candidate: the final raw text, its parse, the trace, and whether it failed."""

    model_config = ConfigDict(extra="forbid")

    case_id: str
    text: str
    parsed: ParsedPlan
    feature: str = PLANNER.name  # the feature it answers; `parsed` is the planner's reading
    answer: Any = None  # another feature's answer: the JSON value in the text (None: none)
    trace: list[TraceNode] = Field(default_factory=list)
    failed: bool = False
    error: str = ""
    seconds: float = 0.0


class _RunPluginManager(pluggy.PluginManager):
    """A per-run manager: every lever stage method is an implementation, marked or not."""

    def parse_hookimpl_opts(self, plugin: object, name: str):  # type: ignore[override]
        opts = super().parse_hookimpl_opts(plugin, name)
        if opts is None and name in STAGES and callable(getattr(plugin, name, None)):
            return {}
        return opts


def stage_manager(levers: list[Lever]) -> pluggy.PluginManager:
    """A plugin manager whose stage hooks call exactly these levers, in this order."""
    manager = _RunPluginManager("autoresearch")
    manager.add_hookspecs(hookspecs)
    for i, lever in reversed(list(enumerate(levers))):  # pluggy calls the last registered first
        manager.register(lever, name=f"{i}:{lever.name}")
    return manager


def instantiate(
    config: AgentConfig, workspace: Path | None, feature: FeatureSpec = PLANNER
) -> list[Lever]:
    """The enabled levers of an agent, built from their validated params and checked (a lever
    made for another feature is refused)."""
    known = lever_classes()
    check_fits([spec.name for spec in config.enabled_levers()], feature)
    levers = []
    for spec in config.enabled_levers():
        info = known[spec.name]
        lever = info.cls(info.Params.model_validate(spec.params))
        lever.check(workspace)
        levers.append(lever)
    return levers


def default_messages(ctx: Context) -> list[Message]:
    """The prompt when no enabled lever builds one: the prompt lever with default params."""
    from levers.builtin.prompt import PromptLever

    return PromptLever().messages_for(ctx)


def run_pipeline(ctx: Context, manager: pluggy.PluginManager) -> str:
    """The five stages for one case; returns the final text."""
    hook = manager.hook
    ctx.stage = "prepare"
    hook.prepare(ctx=ctx)
    ctx.stage = "build_messages"
    hook.build_messages(ctx=ctx)
    if not ctx.messages:
        ctx.messages = default_messages(ctx)
    ctx.stage = "generate"
    result = hook.generate(ctx=ctx)
    if result is None:
        result = ctx.call(None, ctx.messages, ctx.options, label="generate")
    ctx.draft = result.text if isinstance(result, Completion) else str(result)
    ctx.stage = "refine"
    hook.refine(ctx=ctx)
    ctx.stage = "finalize"
    hook.finalize(ctx=ctx)
    return ctx.draft


def _run_case(ctx: Context, manager: pluggy.PluginManager) -> CandidateRun:
    started = time.perf_counter()
    try:
        text = run_pipeline(ctx, manager)
        failed, error = False, ""
    except Exception as exc:
        last = traceback.extract_tb(exc.__traceback__)[-1]
        text, failed = "", True
        where = f"{Path(last.filename).name}:{last.lineno}"
        error = f"{ctx.stage}: {type(exc).__name__}: {exc} ({where})"
    finally:
        ctx.batcher.leave()
    return CandidateRun(
        case_id=ctx.case_id,
        text=text,
        parsed=parse_plan(text),
        feature=ctx.feature.name,
        answer=None if ctx.feature.planner else json_answer(text),
        trace=ctx.trace,
        failed=failed,
        error=error,
        seconds=round(time.perf_counter() - started, 3),
    )


def run_agent(
    config: AgentConfig,
    cases: Sequence[Task | Case],
    *,
    workspace: Path | None = None,
    progress: Progress | None = None,
    max_batch: int = 32,
    feature: FeatureSpec = PLANNER,
) -> list[CandidateRun]:
    """Run the agent's pipeline on every case for `feature`; a case whose lever raises is
    marked failed."""
    config = validate_agent(config)
    manager = stage_manager(instantiate(config, workspace, feature))
    base_options = config.decoding.options()
    batcher = CallBatcher(active=len(cases), max_batch=max_batch)
    contexts = [
        Context(
            case_id=case.id,
            task=case.task,
            config=config,
            index=i,
            workspace=workspace,
            feature=feature,
            options=base_options.model_copy(),
            batcher=batcher,
        )
        for i, case in enumerate(cases)
    ]
    done, lock = [0], threading.Lock()

    def one(ctx: Context) -> CandidateRun:
        run = _run_case(ctx, manager)
        with lock:
            done[0] += 1
            if progress is not None:
                progress(done[0], len(cases))
        return run

    if not cases:
        return []
    with ThreadPoolExecutor(max_workers=len(cases), thread_name_prefix="case") as pool:
        return list(pool.map(one, contexts))
