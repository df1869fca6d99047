"""The adapter store: content-addressed folders, prefix resolution, external adds."""

from __future__ import annotations

from pathlib import Path

import pytest

from levers.adapters import (
    AdapterError,
    AdapterRecord,
    adapter_kind,
    adapter_store,
    add_adapter,
    install_folder,
    list_adapters,
    load_record,
    resolve_adapter,
    sha256_file,
)
from levers.training.estimate import estimate_seconds, steps_for
from levers.training.trainers import TrainConfig, TrainingError, training_supported


def peft_folder(path: Path, payload: bytes) -> Path:
    path.mkdir(parents=True)
    (path / "adapter_config.json").write_text('{"r": 8}')
    (path / "adapter_model.safetensors").write_bytes(payload)
    return path


def stored(root: Path, tmp_path: Path, payload: bytes, created: str, kind="sft") -> AdapterRecord:
    folder = peft_folder(tmp_path / f"src-{payload.hex()}", payload)
    record = AdapterRecord(
        hash=sha256_file(folder / "adapter_model.safetensors"),
        kind=kind,
        base_model="local:smollm2-135m",
        created=created,
    )
    install_folder(root, folder, record)
    return record


def test_list_show_and_prefix(tmp_path):
    root = adapter_store(tmp_path)
    assert list_adapters(root) == []
    a = stored(root, tmp_path, b"first", "2026-01-01T00:00:00+00:00")
    b = stored(root, tmp_path, b"second", "2026-01-02T00:00:00+00:00", kind="orpo")
    assert [r.hash for r in list_adapters(root)] == [a.hash, b.hash]
    assert load_record(root, a.hash[:6]) == a
    assert load_record(root, b.hash.upper()) == b
    # the levers side reads the same store
    assert resolve_adapter(tmp_path, b.hash[:8]) == root / b.hash
    assert adapter_kind(root / b.hash) == "orpo"


def test_an_adapter_names_its_experiments_class_by_its_training():
    def record(kind: str, builder: str | None = None) -> AdapterRecord:
        recipe = {"builder": builder} if builder else {}
        return AdapterRecord(hash="ab", kind=kind, base_model="m", data_recipe=recipe)

    assert record("sft", "sft").experiment_class == "adapter-sft"
    assert record("orpo", "orpo-style").experiment_class == "adapter-orpo-style"
    assert record("orpo", "orpo-on-policy").experiment_class == "adapter-orpo-on-policy"
    assert record("orpo").experiment_class == "adapter-orpo"  # added from elsewhere: no recipe


def test_missing_and_ambiguous_refs_are_one_line(tmp_path):
    root = adapter_store(tmp_path)
    with pytest.raises(AdapterError) as missing:
        load_record(root, "abc")
    assert "\n" not in str(missing.value) and "adapters list" in str(missing.value)
    (root / "ab12").mkdir(parents=True)
    (root / "ab34").mkdir()
    with pytest.raises(AdapterError, match="ambiguous"):
        load_record(root, "ab")
    with pytest.raises(AdapterError, match="meta.json"):
        load_record(root, "ab1")


def test_identical_weights_are_stored_once(tmp_path):
    root = adapter_store(tmp_path)
    first = stored(root, tmp_path / "x", b"same", "2026-01-01T00:00:00+00:00")
    second = stored(root, tmp_path / "y", b"same", "2026-01-03T00:00:00+00:00")
    assert first.hash == second.hash
    assert len(list_adapters(root)) == 1


def test_add_external_peft_and_apple_adapters(tmp_path):
    root = adapter_store(tmp_path)
    peft = peft_folder(tmp_path / "peft", b"weights")
    record = add_adapter(root, peft, kind="orpo", base_model="local:smollm2-135m", request="req-3")
    assert record.origin == "added" and record.request == "req-3" and record.kind == "orpo"
    assert (root / record.hash / "adapter_model.safetensors").read_bytes() == b"weights"
    assert add_adapter(root, peft, kind="orpo", base_model="x:y").hash == record.hash
    apple = tmp_path / "planner.fmadapter"
    apple.mkdir()
    (apple / "metadata.json").write_text("{}")
    (apple / "adapter_weights.bin").write_bytes(b"apple")
    rec = add_adapter(root, apple, kind="sft", base_model="apple:system")
    assert rec.hash == sha256_file(apple / "adapter_weights.bin")
    assert {r.base_model for r in list_adapters(root)} == {"local:smollm2-135m", "apple:system"}


def test_add_rejects_folders_that_are_not_adapters(tmp_path):
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "notes.txt").write_text("hi")
    with pytest.raises(AdapterError, match="neither a peft"):
        add_adapter(tmp_path / "store", tmp_path / "junk", kind="sft", base_model="apple:system")


def test_training_supported():
    assert training_supported("local:smollm2-135m") == (True, "")
    ok, reason = training_supported("apple:system")
    assert not ok and "Apple" in reason and "adapters add" in reason
    assert not training_supported("anthropic:claude-sonnet-4-6")[0]
    assert not training_supported("fake:planner")[0]


def test_estimates_scale_with_steps_and_batch():
    one = estimate_seconds("sft", 10, "local:smollm2-135m")
    assert estimate_seconds("sft", 20, "local:smollm2-135m") > one
    assert estimate_seconds("orpo", 10, "local:smollm2-135m") > one
    assert estimate_seconds("sft", 10, "local:smollm2-135m", batch_size=8) > one
    assert estimate_seconds("sft", 10, "local:hf:/some/model") > 0
    assert steps_for(160, TrainConfig(batch_size=4, epochs=2)) == 80
    assert steps_for(160, TrainConfig(steps=7)) == 7
    with pytest.raises(TrainingError, match="Apple"):
        estimate_seconds("sft", 10, "apple:system")
