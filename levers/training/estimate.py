"""Training-time estimates for approval prompts, from s/step measured by bench_training.py.

Figures are per optimizer step at batch 4 (max length 384, fp32, no gradient checkpointing) on
a 2-core CPU (load average ~1.9), measured with `python benchmarks/bench_training.py --models
smollm2-135m gemma3-270m --steps 3`; other batch sizes scale linearly. Gradient checkpointing
adds ~35% time for ~30% less memory. Rerun the benchmark on a new machine and update MEASURED.
"""

from __future__ import annotations

import math
from typing import Literal

from .trainers import TrainConfig, TrainingError, training_supported

REFERENCE_BATCH = 4
LOAD_SECONDS = 15.0  # importing trl/transformers, loading weights, tokenizing the data

# (model spec, kind) -> (seconds per step at batch 4, peak RSS in MB)
MEASURED: dict[tuple[str, str], tuple[float, float]] = {
    ("local:smollm2-135m", "sft"): (3.6, 3690.0),
    ("local:smollm2-135m", "orpo"): (5.7, 5360.0),
    ("local:gemma3-270m", "sft"): (7.9, 4000.0),
    ("local:gemma3-270m", "orpo"): (17.3, 9415.0),
}
UNKNOWN_MODEL_FACTOR = 2.0  # an unmeasured local model: assume twice gemma3-270m's cost


def seconds_per_step(kind: Literal["sft", "orpo"], model: str, batch_size: int = 4) -> float:
    """Measured (or, for an unmeasured local model, assumed) seconds per step."""
    ok, reason = training_supported(model)
    if not ok:
        raise TrainingError(reason)
    known = MEASURED.get((model, kind))
    base = known[0] if known else MEASURED[("local:gemma3-270m", kind)][0] * UNKNOWN_MODEL_FACTOR
    return base * batch_size / REFERENCE_BATCH


def steps_for(rows: int, config: TrainConfig) -> int:
    """Optimizer steps a config takes over ROWS examples."""
    if config.steps:
        return config.steps
    per_epoch = math.ceil(rows / (config.batch_size * config.grad_accum))
    return max(1, math.ceil(per_epoch * config.epochs))


def estimate_seconds(
    kind: Literal["sft", "orpo"], steps: int, model: str, batch_size: int = 4
) -> float:
    """Wall-clock seconds to train STEPS steps of KIND on MODEL (plus loading)."""
    return LOAD_SECONDS + steps * seconds_per_step(kind, model, batch_size)


def peak_rss_mb(kind: Literal["sft", "orpo"], model: str) -> float | None:
    known = MEASURED.get((model, kind))
    return known[1] if known else None


def describe_estimate(
    kind: Literal["sft", "orpo"], rows: int, config: TrainConfig, model: str
) -> str:
    """One line for an approval prompt: data size, steps, estimated time."""
    steps = steps_for(rows, config)
    seconds = estimate_seconds(kind, steps, model, config.batch_size)
    return (
        f"{kind} on {model}: {rows} examples, {steps} steps at batch {config.batch_size}, "
        f"about {format_duration(seconds)}"
    )


def format_duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
