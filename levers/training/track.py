"""The training track end to end: pick the data recipe, build it, train, store the adapter.

`run_training` is what both `autoresearch train` and the loop's `train` node call; `feature`
(the workspace's, which the caller reads from its ruler) says whose pool and answers to train on.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from levers.adapters import AdapterRecord, adapter_store
from levers.feature import FeatureSpec

from .data import (
    Prompt,
    PromptFor,
    TrainingData,
    build_on_policy_pairs,
    build_sft,
    build_style_pairs,
    load_training_pool,
)
from .trainers import OnStep, TrainConfig, TrainingError, train_adapter, training_supported

Pairs = Literal["style", "on-policy"]
Progress = Callable[[int, int], None]


def agent_for(workspace: Path | None) -> Any:
    """The workspace's current agent (agent/agent.toml), else the built-in baseline."""
    from levers.config import BASELINE_AGENT, read_agent  # its levers load where they run

    path = Path(workspace) / "agent" / "agent.toml" if workspace is not None else None
    return read_agent(path) if path is not None and path.is_file() else BASELINE_AGENT


def build_dataset(
    kind: Literal["sft", "orpo"],
    *,
    agent: Any,
    pairs: Pairs = "style",
    workspace: Path | None = None,
    pool_size: int | None = None,
    seed: int = 0,
    on_draft: Progress | None = None,
    feature: FeatureSpec | None = None,
) -> TrainingData:
    """The dataset for KIND in AGENT's chat format from `feature`'s pool (None: the planner's);
    on-policy pairs run the agent for drafts. The agent's lever code (its prompts, its drafts)
    runs in a sandboxed pipeline process."""
    pool = load_training_pool(limit=pool_size, feature=feature)
    on_policy = kind == "orpo" and pairs == "on-policy"
    prompt_for, drafts = sandboxed_prompts(agent, pool, workspace, on_policy, on_draft, feature)
    source = f"agent {agent.model}: " + ", ".join(s.name for s in agent.enabled_levers())
    if kind == "sft":
        return build_sft(pool, prompt_for, prompt_source=source)
    if pairs == "style":
        return build_style_pairs(pool, prompt_for, seed=seed, prompt_source=source)
    return build_on_policy_pairs(pool, drafts, prompt_for, prompt_source=source, drafts_from=source)


def sandboxed_prompts(
    agent: Any,
    pool: list[Any],
    workspace: Path | None,
    drafts: bool,
    on_draft: Progress | None = None,
    feature: FeatureSpec | None = None,
) -> tuple[PromptFor, dict[str, str]]:
    """The agent's own prompt for each pool case and (with `drafts`) its final text, from a
    sandboxed pipeline process: no lever module is imported where training runs."""
    from levers.pipeline import run_once
    from levers.runner import CandidateRun, Task

    agent_dir = Path(workspace) / "agent" if workspace is not None else None
    reply = run_once(
        agent.model_dump(mode="json"),
        [Task.of(c).model_dump() for c in pool],
        agent_dir if agent_dir is not None and agent_dir.is_dir() else None,
        workspace,
        None,
        ops=("prompts", "run") if drafts else ("prompts",),
        on_progress=on_draft,
        feature=feature,
    )
    prompts = {c.id: Prompt.model_validate(p) for c, p in zip(pool, reply["prompts"], strict=True)}
    runs = [CandidateRun.model_validate(r) for r in reply.get("runs", [])]
    return (lambda case: prompts[case.id]), {r.case_id: r.text for r in runs if not r.failed}


def run_training(
    kind: Literal["sft", "orpo"],
    *,
    workspace: Path,
    config: TrainConfig | None = None,
    pairs: Pairs = "style",
    base_model: str | None = None,
    agent: Any = None,
    pool_size: int | None = None,
    on_draft: Progress | None = None,
    on_step: OnStep | None = None,
    feature: FeatureSpec | None = None,
) -> AdapterRecord:
    """Build the data from the training pool, train KIND on the base model, store the adapter.

    The base model defaults to the agent's model; drafts for on-policy pairs come from the
    agent as it is (with its current adapter, if any) on that model.
    """
    config = config or TrainConfig()
    agent = agent if agent is not None else agent_for(workspace)
    base_model = base_model or agent.model
    ok, reason = training_supported(base_model)
    if not ok:
        raise TrainingError(reason)
    if agent.model != base_model:
        agent = agent.model_copy(update={"model": base_model})
    data = build_dataset(
        kind,
        agent=agent,
        pairs=pairs,
        workspace=workspace,
        pool_size=pool_size,
        seed=config.seed,
        on_draft=on_draft,
        feature=feature,
    )
    return train_adapter(
        kind,
        base_model=base_model,
        dataset=data,
        config=config,
        store_root=adapter_store(workspace),
        on_step=on_step,
    )


def training_node(record: AdapterRecord) -> Any:
    """The process-diagram node for the (dev-time) training that produced RECORD."""
    from levers.trace import TraceNode

    label = f"{record.kind} LoRA {record.hash[:8]}: {record.steps} steps"
    return TraceNode(
        kind="adapter_training",
        label=label,
        stage="train",
        model_id=record.base_model,
        seconds=record.seconds,
        adapter_kind=record.kind,
    )
