"""The whole training track in the loop, on the real local model with small settings:
plateau → request → approve → LoRA SFT training → an adapter-sft experiment, all committed."""

from __future__ import annotations

import pytest
from git import Repo

from levers.config import AgentConfig, Decoding, LeverSpec, write_agent
from orchestrator import control
from orchestrator.loop import run_loop
from orchestrator.researchers.heuristic import HeuristicResearcher
from runlog.settings import dump_config
from runlog.workspace import Workspace


@pytest.mark.slow
def test_plateau_request_approve_train_then_an_adapter_experiment(tmp_path):
    ws = Workspace.init(tmp_path / "ws", model="local:smollm2-135m", researcher="heuristic")
    root = ws.main_root
    config = ws.config.model_copy(deep=True)
    config.keep.confirm_gate = ""  # dev-10 decides alone: small settings
    (root / "autoresearch.toml").write_text(dump_config(config))
    agent = AgentConfig(
        model="local:smollm2-135m",
        decoding=Decoding(max_tokens=120),
        levers=[LeverSpec(name="prompt")],
    )
    write_agent(agent, root / "agent" / "agent.toml")
    with Repo(root) as repo:
        repo.git.add("-A")
        repo.index.commit("small settings for the test")
    researcher = HeuristicResearcher(plateau_after=1, training_steps=3)

    first = run_loop(root, experiments=3, researcher=researcher, wait_for_approval=False)
    assert first.waiting_for is not None and first.waiting_for["kind"] == "sft"
    assert first.waiting_for["estimated_seconds"] > 0 and first.waiting_for["data_size"] >= 150

    control.send(root, "approve", "go ahead")
    second = run_loop(root, experiments=1, researcher=researcher, wait_for_approval=False)
    ws = Workspace.open(root)
    kinds = [e.kind for e in ws.events()]
    assert kinds.count("training_done") == 1, kinds
    adapter = next(e.payload["adapter"] for e in ws.events("training_done"))
    (record,) = second.experiments
    assert record.lever_class == "adapter-sft"
    assert record.adapter_hash == adapter and record.result.gate == "dev-10"
    assert any(n["kind"] == "adapter_inference" for n in record.trace)
    assert any(n["kind"] == "adapter_training" for n in record.trace)
    assert (root / ".autoresearch" / "adapters" / adapter / "meta.json").exists()
    with Repo(root) as repo:
        assert f"exp/{record.id}" in [t.name for t in repo.tags]
