"""An adapter experiment's class is the adapter's own training, as the store records it (the
seed report's rows: SFT, ORPO on style pairs, ORPO on-policy), whatever the proposal said."""

from __future__ import annotations

from levers.adapters import AdapterRecord, adapter_store, install_folder
from orchestrator.researchers.base import Proposal
from orchestrator.researchers.heuristic import HeuristicResearcher
from orchestrator.services import WorkspaceServices
from orchestrator.state import Outcome
from runlog.workspace import Workspace


def test_the_record_takes_the_class_the_adapter_store_gives(tmp_path):
    ws = Workspace.init(tmp_path / "ws", model="fake:planner", judge="fake:judge")
    store = adapter_store(ws.main_root)
    hashes = {}
    for builder in ("sft", "orpo-style", "orpo-on-policy"):
        digest = f"{len(hashes):x}" * 64
        folder = tmp_path / builder
        folder.mkdir()
        kind = "sft" if builder == "sft" else "orpo"
        record = AdapterRecord(
            hash=digest, kind=kind, base_model="fake:planner", data_recipe={"builder": builder}
        )
        install_folder(store, folder, record)
        hashes[builder] = digest
    services = WorkspaceServices(ws, HeuristicResearcher())
    claimed = Proposal(hypothesis="train", lever_class="adapter-orpo")  # a researcher's guess
    classes = {
        builder: services._lever_class(claimed, Outcome(status="kept", adapter_hash=digest))
        for builder, digest in hashes.items()
    }
    assert classes == {
        "sft": "adapter-sft",
        "orpo-style": "adapter-orpo-style",
        "orpo-on-policy": "adapter-orpo-on-policy",
    }
    # no adapter made (a failed training): the proposal's class stands, if it is one
    assert services._lever_class(claimed, Outcome(status="failed")) == "adapter-orpo"
    unknown = Proposal(hypothesis="h", lever_class="adapter-dpo")
    assert services._lever_class(unknown, Outcome(status="failed")) == "other"
