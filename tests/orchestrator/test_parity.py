"""One scenario suite at K = 1 (the sequential loop) and K = 2 (the parallel pool, in this
process; on a local Ray too, marked slow): the same statuses, decisions and failures.

Each scenario runs a scripted researcher (its first proposal is experiment 002: 001 is always
the stock agent) on a fresh fake-model workspace once per K, and compares what was recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from git import Repo

from levers.adapters import AdapterRecord, adapter_store, install_folder, sha256_file
from levers.validate import SMOKE_MODEL
from orchestrator import lever_check
from orchestrator.loop import run_loop
from orchestrator.pool.options import PoolOptions
from orchestrator.researchers.base import LogView, Proposal, SearchExhausted, TrainingRequest
from orchestrator.services import WorkspaceServices
from runlog.settings import dump_config
from runlog.workspace import Workspace

Step = Proposal | Callable[[LogView], Proposal]


class Script:
    """Proposes its steps in order (a step may read the log), then has nothing left."""

    name = "scripted"

    def __init__(self, *steps: Step) -> None:
        self.steps = list(steps)

    def propose(self, log: LogView, notes: list[str]) -> Proposal:
        if not self.steps:
            raise SearchExhausted("the script is done")
        step = self.steps.pop(0)
        return step(log) if callable(step) else step

    def repair(self, proposal: Proposal, report: str) -> Proposal | None:
        return None


POOLS = {
    "local": lambda: PoolOptions(2),
    "ray": lambda: PoolOptions(2, local=False),
}


@pytest.fixture(params=["local", pytest.param("ray", marks=pytest.mark.slow)])
def pool(request) -> PoolOptions:
    if request.param == "ray":
        pytest.importorskip("ray")
    return POOLS[request.param]()


def workspace(root: Path, **keep: Any) -> Path:
    """A fake-model workspace, with `[keep]` settings changed and committed."""
    ws = Workspace.init(root, model="fake:planner", judge="fake:judge", researcher="heuristic")
    if keep:
        config = ws.config.model_copy(deep=True)
        config.keep = config.keep.model_copy(update=keep)
        commit_config(ws.main_root, dump_config(config), "test settings")
    return ws.main_root


def commit_config(root: Path, text: str, message: str) -> None:
    (root / "autoresearch.toml").write_text(text)
    with Repo(root) as repo:
        repo.git.add("-A")
        repo.index.commit(message)


def run(root: Path, parallel: PoolOptions | None, experiments: int, *steps: Step) -> None:
    run_loop(
        root,
        experiments=experiments,
        researcher=Script(*steps),
        parallel=parallel,
        on_request="approve",
        preflight=False,
    )


def recorded(root: Path) -> list[dict[str, Any]]:
    """What must not depend on K: each experiment's status, decision, failure, gates, class and
    the first node of its process diagram."""
    return [
        {
            "id": r.id,
            "status": r.status,
            "decision": r.decision,
            "failure": r.failure,
            "gates": [g.gate for g in r.gates],
            "lever_class": r.lever_class,
            "first_node": r.trace[0]["kind"] if r.trace else "",
        }
        for r in Workspace.open(root).records()
    ]


def both(tmp_path: Path, pool: PoolOptions, scenario) -> list[dict[str, Any]]:
    """The scenario's records at K = 1 and at K = 2, asserted equal; K = 1's."""
    one = scenario(tmp_path / "k1", None)
    two = scenario(tmp_path / "k2", pool)
    assert one == two
    return one


def decoding(max_tokens: int) -> Proposal:
    return Proposal(
        hypothesis=f"max_tokens {max_tokens}",
        lever_class="decoding",
        agent_patch={"decoding": {"max_tokens": max_tokens}},
    )


def with_lever(name: str, code: str, **patch: Any) -> Callable[[LogView], Proposal]:
    def step(log: LogView) -> Proposal:
        levers = [*log.best_agent.get("levers", []), {"name": name, "params": {}}]
        return Proposal(
            hypothesis=f"the {name} lever",
            lever_class="other",
            agent_patch={"levers": levers, **patch},
            lever_code=code,
            lever_filename=f"{name}.py",
        )

    return step


LEVER = """
from levers import Lever, hookimpl


class {cls}(Lever):
    "{doc}"

    name = "{name}"
    lever_class = "other"

    @hookimpl
    def finalize(self, ctx):
        if {condition}:
            raise RuntimeError("{message}")


@hookimpl
def register_levers(register):
    register({cls})
"""


def test_a_non_default_keep_screen_is_honoured(tmp_path, pool):
    def scenario(root: Path, parallel: PoolOptions | None):
        ws = workspace(root, screen="interval")
        run(ws, parallel, 3, decoding(200), decoding(180))
        return recorded(ws)

    records = both(tmp_path, pool, scenario)
    assert [r["status"] for r in records] == ["kept", "discarded", "discarded"]
    assert all("screen (interval high>0 (today)) not passed" in r["decision"] for r in records[1:])


def test_a_lever_that_fails_every_case_is_failed(tmp_path, pool):
    code = LEVER.format(
        cls="EveryCase",
        doc="Fails every real case (the validation's smoke case passes).",
        name="every_case",
        condition='ctx.case_id != "case-1"',
        message="this lever fails every case",
    )

    def scenario(root: Path, parallel: PoolOptions | None):
        ws = workspace(root)
        run(ws, parallel, 2, with_lever("every_case", code))
        return recorded(ws)

    records = both(tmp_path, pool, scenario)
    failed = records[1]
    assert failed["status"] == "failed"
    assert failed["failure"].startswith("every case of dev-10 failed")
    assert "this lever fails every case" in failed["failure"]


def test_a_best_judged_under_another_judge_is_rejudged(tmp_path, pool):
    def scenario(root: Path, parallel: PoolOptions | None):
        ws = workspace(root)
        run(ws, parallel, 1)  # the stock agent, judged by fake:judge
        config = Workspace.open(ws).config.model_copy(deep=True)
        config.judge.spec = "fake:other"
        commit_config(ws, dump_config(config), "judge fake:other")
        run(ws, parallel, 1, decoding(200))
        return recorded(ws)

    records = both(tmp_path, pool, scenario)
    assert records[1]["status"] == "discarded"
    assert "best exp001 re-judged on dev-10 under llm:fake:other" in records[1]["decision"]


def test_a_lever_that_fails_only_with_the_real_candidate_fails_validation(
    tmp_path, pool, monkeypatch
):
    # the candidate here is fake:echo, which validation treats as a local model: the lever is
    # smoke-run on fake:planner (it passes) and then on the candidate (it raises)
    monkeypatch.setattr(lever_check, "smoke_models", lambda candidate: [SMOKE_MODEL, candidate])
    code = LEVER.format(
        cls="PlannerOnly",
        doc="Works on fake:planner only.",
        name="planner_only",
        condition='ctx.model != "fake:planner"',
        message="not on this model",
    )

    def scenario(root: Path, parallel: PoolOptions | None):
        ws = workspace(root)
        run(ws, parallel, 2, with_lever("planner_only", code, model="fake:echo"))
        return recorded(ws)

    records = both(tmp_path, pool, scenario)
    failed = records[1]
    assert failed["status"] == "failed"
    assert failed["failure"].startswith("lever validation failed at smoke: inside the agent on")
    assert "fake:echo" in failed["failure"] and "not on this model" in failed["failure"]


def fake_training(monkeypatch) -> None:
    """Training that stores a small adapter at once (the fake model ignores adapters)."""
    from levers.training import track

    def run_training(kind, *, workspace, **_: Any) -> AdapterRecord:
        folder = Path(workspace) / ".autoresearch" / "made-adapter"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "adapter_config.json").write_text('{"r": 8}')
        (folder / "adapter_model.safetensors").write_bytes(b"weights")
        record = AdapterRecord(
            hash=sha256_file(folder / "adapter_model.safetensors"),
            kind=kind,
            base_model="fake:planner",
            created="2026-12-01T00:00:00+00:00",
            steps=3,
            seconds=1.5,
        )
        install_folder(adapter_store(Path(workspace)), folder, record)
        return record

    monkeypatch.setattr(track, "run_training", run_training)
    monkeypatch.setattr(WorkspaceServices, "trainable", lambda self: (True, ""))


def use_adapter(log: LogView) -> Proposal:
    (adapter,) = log.adapters
    levers = [*log.best_agent.get("levers", []), {"name": "adapter"}]
    levers[-1]["params"] = {"adapter": adapter["hash"]}
    return Proposal(
        hypothesis="the trained adapter", lever_class="adapter", agent_patch={"levers": levers}
    )


def test_a_training_request_then_an_adapter_experiment(tmp_path, pool, monkeypatch):
    fake_training(monkeypatch)
    request = Proposal(
        hypothesis="train",
        lever_class="adapter",
        training_request=TrainingRequest(rationale="a plateau", steps=3),
    )

    def scenario(root: Path, parallel: PoolOptions | None):
        ws = workspace(root)
        run(ws, parallel, 2, request, use_adapter)
        kinds = [e.kind for e in Workspace.open(ws).events()]
        return recorded(ws), [k for k in kinds if k not in ("note",)]

    records, events = both(tmp_path, pool, scenario)
    assert "approved" in events and "training_done" in events
    adapter = records[1]
    assert adapter["lever_class"] == "adapter-sft" and adapter["status"] != "failed", adapter
    assert adapter["first_node"] == "adapter_training"  # the training heads the diagram
