"""The manual training track: datasets from the training pool, LoRA SFT/ORPO, the adapter store.

    from levers.training import run_training, TrainConfig
    record = run_training("sft", workspace=ws, config=TrainConfig(steps=40), on_step=report)

`run_training` builds the data in the agent's chat format (SFT, ORPO style or on-policy pairs),
trains on the local base model and returns the `AdapterRecord` stored under
`.autoresearch/adapters/<sha256>/`.
"""

from levers.training.estimate import describe_estimate, estimate_seconds, steps_for
from levers.training.track import agent_for, build_dataset, run_training, training_node
from levers.training.trainers import TrainConfig, TrainingError, train_adapter, training_supported

__all__ = [
    "TrainConfig",
    "TrainingError",
    "agent_for",
    "build_dataset",
    "describe_estimate",
    "estimate_seconds",
    "run_training",
    "steps_for",
    "train_adapter",
    "training_node",
    "training_supported",
]
