"""LoRA SFT and ORPO on a local base model (transformers + peft + trl), into the adapter store.

`train_adapter` renders each row's messages with the base model's own prompt renderer (the one
the local backend uses at inference), trains a LoRA on the attention projections, reports
every step through `on_step(step, total, loss)`, checkpoints every `save_steps` so an
interrupted run resumes, and stores the weights content-addressed with data, recipe and meta.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from levers.adapters import (
    PEFT_WEIGHTS,
    AdapterRecord,
    install_folder,
    now_iso,
    sha256_file,
)
from models.base import AutoresearchError, GenerationOptions, Message
from models.registry import parse_spec

from .data import TrainingData, write_dataset

OnStep = Callable[[int, int, float], None]
ATTENTION_PROJECTIONS: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj")
WORK_DIR = ".work"


class TrainingError(AutoresearchError):
    """Training that cannot run here (unsupported backend, bad settings, empty data)."""


class TrainConfig(BaseModel):
    """LoRA + optimizer settings. `steps` (if set) overrides `epochs`."""

    model_config = ConfigDict(extra="forbid")

    epochs: float = Field(1.0, gt=0)
    steps: int | None = Field(None, ge=1)
    learning_rate: float = Field(2e-4, gt=0)
    rank: int = Field(8, ge=1)
    alpha: int = Field(16, ge=1)
    dropout: float = Field(0.05, ge=0, lt=1)
    batch_size: int = Field(4, ge=1)
    grad_accum: int = Field(1, ge=1)
    max_length: int = Field(384, ge=32)
    beta: float = Field(0.1, gt=0, description="ORPO odds-ratio weight")
    seed: int = 0
    save_steps: int = Field(10, ge=1)
    gradient_checkpointing: bool = Field(False, description="less memory, ~35% more time")
    target_modules: list[str] = Field(default_factory=lambda: list(ATTENTION_PROJECTIONS))


def training_supported(model_spec: str) -> tuple[bool, str]:
    """Whether an adapter for MODEL_SPEC can be trained on this machine, and why not."""
    backend, _ = parse_spec(model_spec)
    if backend in ("local", "ct2"):  # ct2: the same weights, converted; adapters run on torch
        return True, ""
    if backend == "apple":
        return False, (
            "apple:* models cannot be trained here: train the adapter with Apple's Foundation "
            "Models adapter training toolkit on a Mac, then register it with "
            "`autoresearch adapters add PATH --kind sft --request ID` (the apple backend's "
            "Python SDK cannot load .fmadapter files, so it is recorded but not run)"
        )
    if backend == "anthropic":
        return False, f"{model_spec} is a cloud model; its weights cannot be trained here"
    return False, f"{model_spec}: the {backend!r} backend has no trainable weights; use local:*"


def base_model_dir(model_spec: str) -> Path:
    """The transformers folder holding MODEL_SPEC's weights (converting a GGUF once)."""
    ok, reason = training_supported(model_spec)
    if not ok:
        raise TrainingError(reason)
    from models.backends.local import LocalModel

    return Path(LocalModel(parse_spec(model_spec)[1]).source_dir())


def _quiet() -> None:
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import datasets
    import transformers

    datasets.disable_progress_bars()
    datasets.utils.logging.set_verbosity_error()
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    warnings.filterwarnings("ignore", module=r"(trl|transformers|peft|torch)\b.*")


def render_rows(data: TrainingData, tokenizer: Any) -> list[dict[str, str]]:
    """Rows as trl wants them: prompt text (exactly as inference renders it) + answer texts."""
    from models.backends.local import render_prompt

    options = GenerationOptions(json_schema=data.recipe.json_schema)
    lead = "" if tokenizer.chat_template else " "  # "...\n\nAssistant:" needs a space
    out = []
    for row in data.rows:
        messages = [Message.model_validate(m) for m in row["messages"]]
        item = {"prompt": render_prompt(tokenizer, messages, options)}
        for key in ("completion", "chosen", "rejected"):
            if key in row:
                item[key] = lead + row[key]
        out.append(item)
    return out


def run_key(kind: str, base_model: str, config: TrainConfig, data_hash: str) -> str:
    blob = json.dumps([kind, base_model, config.model_dump(), data_hash], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _common_args(config: TrainConfig, work: Path) -> dict[str, Any]:
    args: dict[str, Any] = {
        "output_dir": str(work),
        "per_device_train_batch_size": config.batch_size,
        "gradient_accumulation_steps": config.grad_accum,
        "learning_rate": config.learning_rate,
        "num_train_epochs": config.epochs,
        "max_steps": config.steps or -1,
        "logging_steps": 1,
        "save_strategy": "steps",
        "save_steps": config.save_steps,
        "save_total_limit": 1,
        "report_to": "none",
        "seed": config.seed,
        "data_seed": config.seed,
        "use_cpu": True,
        "disable_tqdm": True,
        "dataloader_num_workers": 0,
        "max_length": config.max_length,
        # trl defaults to bf16 autocast and gradient checkpointing. On a CPU bf16 makes a step
        # ~8x slower (no AMX); checkpointing costs ~35% time for ~30% less peak memory.
        "bf16": False,
        "gradient_checkpointing": config.gradient_checkpointing,
    }
    return args


def _lora(config: TrainConfig) -> Any:
    from peft import LoraConfig

    return LoraConfig(
        r=config.rank,
        lora_alpha=config.alpha,
        lora_dropout=config.dropout,
        target_modules=list(config.target_modules),
        bias="none",
        task_type="CAUSAL_LM",
    )


def _step_callback(on_step: OnStep | None) -> Any:
    from transformers import TrainerCallback

    class StepReporter(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if on_step is not None and logs and "loss" in logs:
                on_step(int(state.global_step), int(state.max_steps), float(logs["loss"]))

    return StepReporter()


def _build_trainer(
    kind: Literal["sft", "orpo"],
    model: Any,
    tokenizer: Any,
    rows: list[dict[str, str]],
    config: TrainConfig,
    work: Path,
    on_step: OnStep | None,
) -> Any:
    from datasets import Dataset

    dataset = Dataset.from_list(rows)
    common = dict(
        model=model,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=_lora(config),
        callbacks=[_step_callback(on_step)],
    )
    if kind == "sft":
        from trl import SFTConfig, SFTTrainer

        args = SFTConfig(**_common_args(config, work), completion_only_loss=True, packing=False)
        return SFTTrainer(args=args, **common)
    from trl.experimental.orpo import ORPOConfig, ORPOTrainer

    args = ORPOConfig(**_common_args(config, work), beta=config.beta, remove_unused_columns=False)
    return ORPOTrainer(args=args, **common)


def _latest_checkpoint(work: Path) -> Path | None:
    found = sorted(work.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1]))
    return found[-1] if found else None


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def train_adapter(
    kind: Literal["sft", "orpo"],
    *,
    base_model: str,
    dataset: TrainingData,
    config: TrainConfig | None = None,
    store_root: Path,
    on_step: OnStep | None = None,
) -> AdapterRecord:
    """Train a LoRA adapter of KIND on DATASET and return its record in the store.

    Resumes from the newest checkpoint of an identical interrupted run (same kind, base model,
    config and data) under `<store_root>/.work/<run key>/`.
    """
    config = config or TrainConfig()
    if kind != dataset.kind:
        raise TrainingError(f"a {dataset.recipe.builder} dataset cannot train a {kind} adapter")
    if not dataset.rows:
        raise TrainingError("the training dataset is empty")
    source = base_model_dir(base_model)
    _quiet()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, PrinterCallback, set_seed

    set_seed(config.seed)
    tokenizer = AutoTokenizer.from_pretrained(source)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32)
    work = Path(store_root) / WORK_DIR / run_key(kind, base_model, config, dataset.hash)
    work.mkdir(parents=True, exist_ok=True)
    trainer = _build_trainer(
        kind, model, tokenizer, render_rows(dataset, tokenizer), config, work, on_step
    )
    trainer.remove_callback(PrinterCallback)  # progress goes to on_step, not stdout
    resume = _latest_checkpoint(work)
    started = time.perf_counter()
    first_step = int(resume.name.split("-")[-1]) if resume else 0
    trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    seconds = time.perf_counter() - started
    return _store(
        kind, base_model, dataset, config, trainer, work, seconds, first_step, Path(store_root)
    )


def _store(
    kind: Literal["sft", "orpo"],
    base_model: str,
    dataset: TrainingData,
    config: TrainConfig,
    trainer: Any,
    work: Path,
    seconds: float,
    first_step: int,
    store_root: Path,
) -> AdapterRecord:
    folder = work / "adapter"
    shutil.rmtree(folder, ignore_errors=True)
    trainer.model.save_pretrained(str(folder))
    steps = int(trainer.state.global_step)
    curve = [
        (int(e["step"]), round(float(e["loss"]), 6))
        for e in trainer.state.log_history
        if "loss" in e and "step" in e
    ]
    data_hash = write_dataset(dataset, folder)
    record = AdapterRecord(
        hash=sha256_file(folder / PEFT_WEIGHTS),
        kind=kind,
        base_model=base_model,
        training_config=config.model_dump(),
        data_recipe=dataset.recipe.model_dump(),
        data_hash=data_hash,
        loss_curve=curve,
        steps=steps,
        seconds=round(seconds, 3),
        seconds_per_step=round(seconds / max(1, steps - first_step), 3),
        peak_rss_mb=round(_peak_rss_mb(), 1),
        created=now_iso(),
    )
    install_folder(store_root, folder, record)
    shutil.rmtree(work, ignore_errors=True)
    return record
