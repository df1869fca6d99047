"""The training track end to end: pick the data recipe, build it, train, store the adapter.

`run_training` is what both `autoresearch train` and the loop's `train` node call.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from levers.adapters import AdapterRecord, adapter_store

from .data import (
    TrainingData,
    agent_prompter,
    build_on_policy_pairs,
    build_sft,
    build_style_pairs,
    generate_drafts,
    load_training_pool,
)
from .trainers import OnStep, TrainConfig, TrainingError, train_adapter, training_supported

Pairs = Literal["style", "on-policy"]
Progress = Callable[[int, int], None]


def agent_for(workspace: Path | None) -> Any:
    """The workspace's current agent (agent/agent.toml), else the built-in baseline."""
    from levers.config import BASELINE_AGENT, load_agent

    path = Path(workspace) / "agent" / "agent.toml" if workspace is not None else None
    return load_agent(path) if path is not None and path.is_file() else BASELINE_AGENT


def build_dataset(
    kind: Literal["sft", "orpo"],
    *,
    agent: Any,
    pairs: Pairs = "style",
    workspace: Path | None = None,
    pool_size: int | None = None,
    seed: int = 0,
    on_draft: Progress | None = None,
) -> TrainingData:
    """The dataset for KIND in AGENT's chat format; on-policy pairs run the agent for drafts."""
    pool = load_training_pool(limit=pool_size)
    prompt_for = agent_prompter(agent, workspace)
    source = f"agent {agent.model}: " + ", ".join(s.name for s in agent.enabled_levers())
    if kind == "sft":
        return build_sft(pool, prompt_for, prompt_source=source)
    if pairs == "style":
        return build_style_pairs(pool, prompt_for, seed=seed, prompt_source=source)
    drafts = generate_drafts(agent, pool, workspace=workspace, progress=on_draft)
    return build_on_policy_pairs(pool, drafts, prompt_for, prompt_source=source, drafts_from=source)


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
