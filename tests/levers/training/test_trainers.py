"""Trainer plumbing on a tiny random model: store layout, step reports, resume, errors."""

from __future__ import annotations

import json

import pytest

from levers.adapters import list_adapters
from levers.training.data import build_sft, build_style_pairs, load_training_pool
from levers.training.trainers import TrainConfig, TrainingError, train_adapter

pytestmark = pytest.mark.slow  # trains (a tiny random model: seconds, not minutes)
FAST = dict(batch_size=2, max_length=96, learning_rate=1e-2, save_steps=2)


class Stop(Exception):
    pass


def test_interrupted_run_resumes_and_lands_in_the_store(tiny_model, tmp_path):
    data = build_sft(load_training_pool(limit=4))
    config = TrainConfig(steps=4, **FAST)
    seen: list[tuple[int, int, float]] = []

    def crash_at_three(step: int, total: int, loss: float) -> None:
        seen.append((step, total, loss))
        if step == 3:
            raise Stop

    with pytest.raises(Stop):
        train_adapter(
            "sft",
            base_model=tiny_model,
            dataset=data,
            config=config,
            store_root=tmp_path,
            on_step=crash_at_three,
        )
    assert list((tmp_path / ".work").glob("*/checkpoint-2"))
    assert [s for s, _, _ in seen] == [1, 2, 3] and seen[0][1] == 4

    resumed: list[int] = []
    record = train_adapter(
        "sft",
        base_model=tiny_model,
        dataset=data,
        config=config,
        store_root=tmp_path,
        on_step=lambda s, t, loss: resumed.append(s),
    )
    assert resumed == [3, 4]
    assert [s for s, _ in record.loss_curve] == [1, 2, 3, 4]
    assert record.steps == 4 and record.kind == "sft" and record.data_hash == data.hash
    folder = tmp_path / record.hash
    names = {p.name for p in folder.iterdir()}
    assert {
        "adapter_config.json",
        "adapter_model.safetensors",
        "meta.json",
        "data.jsonl",
        "data_recipe.json",
    } <= names
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["training_config"]["rank"] == 8 and meta["data_recipe"]["builder"] == "sft"
    assert meta["peak_rss_mb"] > 0 and meta["seconds_per_step"] > 0
    assert not list((tmp_path / ".work").iterdir())
    assert [r.hash for r in list_adapters(tmp_path)] == [record.hash]


def test_orpo_trains_on_style_pairs(tiny_model, tmp_path):
    data = build_style_pairs(load_training_pool(limit=2))
    record = train_adapter(
        "orpo",
        base_model=tiny_model,
        dataset=data,
        config=TrainConfig(steps=1, **FAST),
        store_root=tmp_path,
    )
    assert record.kind == "orpo" and record.steps == 1 and len(record.loss_curve) == 1


def test_kind_must_match_the_data_and_backend_must_train(tmp_path):
    data = build_sft(load_training_pool(limit=2))
    with pytest.raises(TrainingError, match="cannot train a orpo"):
        train_adapter("orpo", base_model="local:smollm2-135m", dataset=data, store_root=tmp_path)
    with pytest.raises(TrainingError, match="Apple"):
        train_adapter("sft", base_model="apple:system", dataset=data, store_root=tmp_path)
