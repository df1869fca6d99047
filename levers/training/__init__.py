"""The manual training track: datasets from the training pool, LoRA SFT/ORPO, the adapter store.

    from levers.training import run_training, TrainConfig
    record = run_training("sft", workspace=ws, config=TrainConfig(steps=40), on_step=report)

`run_training` builds the data in the agent's chat format (SFT, ORPO style or on-policy pairs),
trains on the local base model and returns the `AdapterRecord` stored under
`.autoresearch/adapters/<sha256>/`.
"""

from levers.adapters import (
    AdapterError,
    AdapterRecord,
    adapter_store,
    add_adapter,
    list_adapters,
    load_record,
    resolve_ref,
)
from levers.training.data import (
    TrainingData,
    TrainingDataError,
    agent_prompter,
    build_on_policy_pairs,
    build_sft,
    build_style_pairs,
    generate_drafts,
    load_training_pool,
)
from levers.training.estimate import describe_estimate, estimate_seconds, steps_for
from levers.training.track import agent_for, build_dataset, run_training, training_node
from levers.training.trainers import (
    TrainConfig,
    TrainingError,
    train_adapter,
    training_supported,
)

__all__ = [
    "AdapterRecord",
    "AdapterError",
    "TrainConfig",
    "TrainingData",
    "TrainingDataError",
    "TrainingError",
    "add_adapter",
    "agent_for",
    "agent_prompter",
    "build_dataset",
    "build_on_policy_pairs",
    "build_sft",
    "build_style_pairs",
    "describe_estimate",
    "estimate_seconds",
    "generate_drafts",
    "list_adapters",
    "load_record",
    "load_training_pool",
    "resolve_ref",
    "run_training",
    "steps_for",
    "adapter_store",
    "train_adapter",
    "training_node",
    "training_supported",
]
