"""Real training on local:smollm2-135m: a few SFT steps, and ORPO on the model's own drafts."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from levers.adapters import adapter_store, list_adapters, resolve_ref
from levers.config import BASELINE_AGENT, Decoding, write_agent
from levers.training.data import agent_prompter, build_sft, load_training_pool
from levers.training.trainers import TrainConfig, train_adapter
from models import GenerationOptions, get_model
from orchestrator.cli import load_commands

pytestmark = pytest.mark.slow
MODEL = "local:smollm2-135m"


def test_sft_steps_lower_the_loss_and_change_the_output(tmp_path):
    pool = load_training_pool(limit=4)
    data = build_sft(pool, agent_prompter(BASELINE_AGENT))
    config = TrainConfig(steps=6, batch_size=2, max_length=192, learning_rate=3e-3, seed=0)
    record = train_adapter(
        "sft", base_model=MODEL, dataset=data, config=config, store_root=adapter_store(tmp_path)
    )
    losses = [loss for _, loss in record.loss_curve]
    assert len(losses) == 6
    assert sum(losses[-2:]) < sum(losses[:2])
    path = resolve_ref(adapter_store(tmp_path), record.hash[:10])
    assert (path / "adapter_model.safetensors").is_file()

    messages = agent_prompter(BASELINE_AGENT)(pool[0]).messages
    model = get_model(MODEL)
    plain = model.generate(messages, GenerationOptions(max_tokens=48))
    tuned = model.generate(messages, GenerationOptions(max_tokens=48, adapter=str(path)))
    assert tuned.text != plain.text


def test_cli_orpo_on_policy_two_steps(tmp_path):
    agent = BASELINE_AGENT.model_copy(update={"decoding": Decoding(max_tokens=96)})
    write_agent(agent, tmp_path / "agent" / "agent.toml")
    result = CliRunner().invoke(
        load_commands(),
        [
            "train",
            "orpo",
            "--pairs",
            "on-policy",
            "--steps",
            "2",
            "--pool-size",
            "2",
            "--batch-size",
            "2",
            "--max-length",
            "192",
            "-C",
            str(tmp_path),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    (record,) = list_adapters(adapter_store(tmp_path))
    assert record.kind == "orpo" and record.steps == 2 and record.base_model == MODEL
    assert record.data_recipe["builder"] == "orpo-on-policy"
    assert len(record.loss_curve) == 2
