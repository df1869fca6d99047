"""`autoresearch run --parallel K` on a local Ray (one per module: Ray starts slowly)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from git import Repo

from models import AutoresearchError
from orchestrator import control
from orchestrator.researchers.base import (
    LogView,
    Proposal,
    ProposalFailed,
    ResearchKit,
    TrainingRequest,
)
from orchestrator.researchers.heuristic import PHRASING_TEMPLATE, HeuristicResearcher, canonical
from orchestrator.services import WorkspaceServices
from runlog.evaluate import workspace_ruler
from runlog.workspace import Workspace

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow  # a local Ray, its workers, and a driver killed mid-flight

from orchestrator.loop import run_loop  # noqa: E402
from orchestrator.pool.options import PoolOptions  # noqa: E402
from orchestrator.pool.plan import plan_batch  # noqa: E402
from orchestrator.ray_workers import require_ray  # noqa: E402

CLI = [sys.executable, "-c", "from orchestrator.cli import main; main()"]


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    """One local Ray for the module's in-process runs (the loop joins it, leaves it up)."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def fast_workspace(root: Path) -> Path:
    """A fake-model workspace whose researcher avoids RAG: its embedding model makes an
    experiment CPU-bound for minutes on a loaded 2-core machine, and these tests are about
    the pool, not the levers."""
    ws = Workspace.init(root, model="fake:planner", judge="fake:judge", researcher="heuristic")
    control.send(ws.main_root, "note", "avoid rag")
    return ws.main_root


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return fast_workspace(tmp_path / "ws")


def live_events(ws: Path) -> list[dict]:
    path = ws / ".autoresearch" / "live.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


@dataclass
class Span:
    worker: str
    start: float
    end: float = float("inf")


def spans(ws: Path) -> dict[str, Span]:
    """When each experiment held its worker, from the live stream (in start order)."""
    found: dict[str, Span] = {}
    for event in live_events(ws):
        if event.get("node") == "run_experiment":
            if event.get("worker"):
                found[event["experiment"]] = Span(event["worker"], event["time"])
            else:
                found[event["experiment"]].end = event["time"]
    return found


def most_in_flight(found: dict[str, Span]) -> int:
    return max(sum(s.start <= t.start < s.end for s in found.values()) for t in found.values())


def assert_consistent(ws_path: Path, expected: int) -> None:
    """Ids 001..expected, one commit and one tag each, main the kept line, tree clean."""
    ws = Workspace.open(ws_path)
    ids = ws.record_ids()
    assert ids == [f"{i:03d}" for i in range(1, expected + 1)], ids
    with Repo(ws_path) as repo:
        tags = sorted(t.name for t in repo.tags if t.name.startswith("exp/"))
        assert tags == [f"exp/{i}" for i in ids]
        messages = [c.message.splitlines()[0] for c in repo.iter_commits("--all")]
        for i in ids:
            assert sum(m.startswith(f"exp{i}:") for m in messages) == 1
        dirty = [
            line
            for line in repo.git.status("--porcelain").splitlines()
            if not line[3:].startswith("runlog/")
        ]
        assert not dirty, f"the agent or other tracked files were left changed: {dirty}"
        kept = [r.id for r in ws.records() if r.status == "kept"]
        first_parent = repo.git.log("--first-parent", "--format=%s", "main").splitlines()
        assert [m.split(":")[0] for m in first_parent if m.startswith("exp")] == [
            f"exp{i}" for i in reversed(kept)
        ]


def test_k_experiments_in_flight_recorded_in_id_order(workspace):
    researcher = HeuristicResearcher(plateau_after=10_000)
    summary = run_loop(
        workspace, experiments=5, researcher=researcher, parallel=PoolOptions(2, local=False)
    )
    assert [r.id for r in summary.experiments] == ["001", "002", "003", "004", "005"]
    found = spans(workspace)
    # two experiments set off together may take their workers in either order
    assert sorted(found) == ["001", "002", "003", "004", "005"]
    # the baseline alone; then two distinct experiments at a time, each on its own worker
    assert all(found["001"].end <= s.start for exp, s in found.items() if exp != "001")
    assert found["002"].start < found["003"].end and found["003"].start < found["002"].end
    assert {found["002"].worker, found["003"].worker} == {"w1", "w2"}
    assert most_in_flight(found) == 2
    recorded = [e["experiment"] for e in live_events(workspace) if e["kind"] == "experiment"]
    assert recorded == ["001", "002", "003", "004", "005"]  # the driver commits in id order
    agents = [json.dumps(r.agent, sort_keys=True) for r in summary.experiments[1:]]
    assert len(set(agents)) == 4  # never the same configuration twice
    assert all(r.node_seconds.get("run_experiment", 0) > 0 for r in summary.experiments)
    assert_consistent(workspace, expected=5)
    assert not (workspace / ".autoresearch" / "parallel" / "002").exists()
    assert control.read_status(workspace).in_flight == {}


CRASHES = {
    # the lever's own process (the pipeline process under the worker) dies
    "pipeline": "os._exit(3)",
    # the worker's actor process dies, as under the OOM killer (a forked pipeline process's
    # parent is the fork server, whose parent is the actor)
    "actor": (
        "p = os.getppid(); p = int(open('/proc/%d/stat' % p).read().rsplit(')', 1)[1].split()[1]) "
        "if b'levers.zygote' in open('/proc/%d/cmdline' % p, 'rb').read() else p; "
        "os.kill(p, 9); time.sleep(30)"
    ),
}


def crashing_lever(how: str) -> str:
    return PHRASING_TEMPLATE.replace(
        "        return TEMPLATE.format(task=task_phrase(task))",
        "        import os, time\n\n"
        "        if os.environ.get('AUTORESEARCH_WORKER'):\n"
        f"            {CRASHES[how]}\n"
        "        return TEMPLATE.format(task=task_phrase(task))",
    ).format(slug="crash", why="crash", template="{task}", cls="CrashPrompt", name="prompt_crash")


class PlantingResearcher(HeuristicResearcher):
    """The heuristic, with a proposal of a prompt lever module (`name`, `code`) planted as
    experiment 002."""

    def __init__(self, hypothesis: str, name: str, code: str) -> None:
        super().__init__(plateau_after=10_000)
        self.planted = Proposal(
            hypothesis=hypothesis,
            lever_class="prompt",
            agent_patch={"levers": [{"name": name, "params": {}}]},
            lever_code=code,
            lever_filename=f"{name}.py",
        )

    def propose_batch(self, log: LogView, notes: list[str], k: int) -> list[Proposal]:
        batch = super().propose_batch(log, notes, k)
        return [self.planted, *batch[: k - 1]] if len(log.experiments) == 1 else batch


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ("pipeline", "the lever pipeline process exited (code 3)"),
        ("actor", "crashed (its process died mid-job)"),
    ],
)
def test_a_crash_fails_its_experiment_not_the_loop(workspace, how, reason, monkeypatch):
    if how == "actor":  # the OOM killer stands in here: a sandboxed lever cannot signal its parent
        monkeypatch.setenv("AUTORESEARCH_UNSANDBOXED", "1")
    summary = run_loop(
        workspace,
        experiments=5,
        researcher=PlantingResearcher(
            "A lever that crashes its worker", "prompt_crash", crashing_lever(how)
        ),
        parallel=PoolOptions(2, local=False),
    )
    records = {r.id: r for r in summary.experiments}
    assert list(records) == ["001", "002", "003", "004", "005"]
    crashed = records["002"]
    assert crashed.status == "failed" and reason in crashed.failure, crashed.failure
    # the experiments beside it and after it ran normally (a dead actor is restarted)
    assert all(records[i].status != "failed" for i in ("003", "004", "005"))
    assert_consistent(workspace, expected=5)


STRAGGLER = PHRASING_TEMPLATE.replace(
    "        return TEMPLATE.format(task=task_phrase(task))",
    "        import json, os, time\n"
    "        from pathlib import Path\n\n"
    "        live = Path(LIVE).read_text().splitlines()\n"
    "        deadline = time.time() + 120\n"
    "        while os.environ.get('AUTORESEARCH_WORKER') and time.time() < deadline and not any(\n"
    "            e.get('experiment') == '004' and e.get('worker')\n"
    "            for e in map(json.loads, filter(str.strip, live))\n"
    "        ):\n"
    "            time.sleep(0.2)\n"
    "            live = Path(LIVE).read_text().splitlines()\n"
    "        return TEMPLATE.format(task=task_phrase(task))",
)


def test_a_slow_experiment_holds_its_own_worker_and_the_ids_above_it_only(workspace, monkeypatch):
    # the straggler watches the loop's live events, which a sandboxed lever cannot read
    monkeypatch.setenv("AUTORESEARCH_UNSANDBOXED", "1")
    live = workspace / ".autoresearch" / "live.jsonl"
    code = STRAGGLER.format(
        slug="straggler", why="wait", template="{task}", cls="SlowPrompt", name="prompt_slow"
    ).replace("TEMPLATE = ", f"LIVE = {str(live)!r}\nTEMPLATE = ")
    summary = run_loop(
        workspace,
        experiments=5,
        researcher=PlantingResearcher("A lever slower than its neighbours", "prompt_slow", code),
        parallel=PoolOptions(2, local=False),
    )
    found = spans(workspace)
    # 002 waits for 004 to start: the other worker went on from 003 to 004 meanwhile
    assert found["004"].start < found["002"].end, found
    assert found["004"].worker == found["003"].worker != found["002"].worker
    records = {r.id: r for r in summary.experiments}
    assert records["002"].status != "failed", records["002"].failure
    assert records["002"].wall_seconds < 120  # it did not wait out its deadline
    recorded = [e["experiment"] for e in live_events(workspace) if e["kind"] == "experiment"]
    assert recorded == ["001", "002", "003", "004", "005"]  # 003 and 004 waited for 002
    assert_consistent(workspace, expected=5)


def test_a_training_request_waits_for_the_experiments_in_flight_then_the_supervisor(
    workspace, monkeypatch
):
    # fake:planner has no weights; here it may train, so the request is the supervisor's
    monkeypatch.setattr(WorkspaceServices, "trainable", lambda self: (True, ""))
    summary = run_loop(
        workspace,
        experiments=6,
        researcher=HeuristicResearcher(plateau_after=2),
        parallel=PoolOptions(2, local=False),
        wait_for_approval=False,
    )
    # two discarded in a row: the plateau asks for training, perhaps while others are in
    # flight (as their finishes fall); the request waits for them to be recorded, then goes
    # alone, with the next id
    ids = [r.id for r in summary.experiments]
    assert ids == [f"{i:03d}" for i in range(1, len(ids) + 1)] and len(ids) >= 3, ids
    assert summary.waiting_for is not None and summary.waiting_for["type"] == "training"
    assert summary.waiting_for["id"] == f"{len(ids) + 1:03d}"
    assert control.read_status(workspace).state == "waiting_for_approval"
    assert control.read_status(workspace).in_flight == {}
    control.send(workspace, "deny", "not now")
    after = run_loop(
        workspace,
        experiments=2,
        researcher=HeuristicResearcher(plateau_after=2),
        parallel=PoolOptions(2, local=False),
        wait_for_approval=False,
    )
    # the loop went on from the request's id
    assert [r.id for r in after.experiments] == [f"{len(ids) + i:03d}" for i in (1, 2)]
    assert_consistent(workspace, expected=len(ids) + 2)


class RepeatingResearcher(HeuristicResearcher):
    """The heuristic's moves, padded with repeats: its first batch has its move twice (worded
    differently); later batches lead with the best's agent again, then with the agent of an
    experiment in flight; feedback gets a fresh move."""

    def __init__(self) -> None:
        super().__init__(plateau_after=10_000)
        self.feedback: list[list[str]] = []

    def propose_batch(self, log: LogView, notes: list[str], k: int) -> list[Proposal]:
        if not log.experiments:
            return super().propose_batch(log, notes, k)
        if log.feedback:
            self.feedback.append(list(log.feedback))
            return super().propose_batch(log, notes, k)
        if len(log.experiments) == 1:
            move = super().propose_batch(log, notes, 1)[0]
            return [move, move.model_copy(update={"hypothesis": "The same change, said again"})]
        again = Proposal(hypothesis="The best, once more", lever_class="prompt")
        if self.feedback:
            flying = next(e for e in log.experiments if e.status == "running")
            again = Proposal(
                hypothesis="The one in flight, again",
                lever_class="prompt",
                agent_patch={"levers": flying.agent["levers"]},
            )
        return [again, *super().propose_batch(log, notes, k)][:k]


def test_a_repeat_in_a_batch_of_the_log_or_in_flight_is_not_run(workspace):
    researcher = RepeatingResearcher()
    summary = run_loop(
        workspace, experiments=4, researcher=researcher, parallel=PoolOptions(2, local=False)
    )
    records = summary.experiments
    assert [r.id for r in records] == ["001", "002", "003", "004"]
    hypotheses = [r.hypothesis for r in records]
    for repeat in (
        "The same change, said again",
        "The best, once more",
        "The one in flight, again",
    ):
        assert repeat not in hypotheses
    assert all(r.status != "failed" for r in records), [r.failure for r in records]
    agents = {(canonical(r.agent), tuple(f.sha256 for f in r.lever_files)) for r in records}
    assert len(agents) == 4
    # the batch's repeat was dropped; each batch refused whole went back with its reason
    assert [len(f) for f in researcher.feedback] == [1, 1]
    assert researcher.feedback[0][0].startswith("refused: this agent is the one experiment 001")
    assert researcher.feedback[1][0] == (
        "refused: this agent is another experiment in flight; change it"
    )
    assert_consistent(workspace, expected=4)


def test_search_space_exhausted_stops_a_parallel_run(tmp_path, monkeypatch):
    import orchestrator.researchers.heuristic as heuristic

    all_moves = heuristic.moves
    monkeypatch.setattr(heuristic, "moves", lambda: all_moves()[:1])  # one move to exhaust
    ws = Workspace.init(
        tmp_path / "ws", model="fake:echo", judge="fake:judge", researcher="heuristic"
    ).main_root
    summary = run_loop(
        ws, experiments=6, researcher=HeuristicResearcher(), parallel=PoolOptions(2, local=False)
    )
    assert [r.id for r in summary.experiments] == ["001", "002"]
    assert summary.stop_reason == "search space exhausted"
    assert_consistent(ws, expected=2)
    assert control.read_status(ws).in_flight == {}


class Training:
    """Asks to train every time, each research turn costing $0.25; or fails, costing $0.5."""

    name = "training"

    def __init__(self, fail_after: int | None = None) -> None:
        self.turns, self.fail_after = 0, fail_after
        self.feedback: list[list[str]] = []
        self.kits: list[ResearchKit] = []

    def bind(self, kit: ResearchKit) -> None:  # a UsesWorkspace researcher
        self.kits.append(kit)

    def propose(self, log: LogView, notes: list[str]) -> Proposal:
        self.turns += 1
        self.feedback.append(list(log.feedback))
        if self.fail_after is not None and self.turns > self.fail_after:
            raise ProposalFailed("no submission", cost_usd=0.5)
        return Proposal(
            hypothesis="Train",
            lever_class="adapter-sft",
            training_request=TrainingRequest(rationale="plateau"),
            research_cost_usd=0.25,
        )

    def repair(self, proposal: Proposal, report: str) -> Proposal | None:
        return None


def test_a_batch_refused_whole_goes_back_then_fails_carrying_its_cost(workspace):
    run_loop(workspace, experiments=1, researcher=HeuristicResearcher())  # 001: the stock agent
    researcher = Training()
    services = WorkspaceServices(Workspace.open(workspace), researcher)
    plan = plan_batch(services, [])
    assert researcher.turns == 3  # the first try and two retries, as check_proposal allows
    assert [kit.tools.exp_id for kit in researcher.kits] == ["002"] * 3  # bound for each turn
    why = "training request refused: fake:planner: the 'fake' backend has no trainable weights"
    assert researcher.feedback[0] == [] and researcher.feedback[1][0].startswith(why)
    assert plan.error.startswith(f"proposal refused 3 times; {why}")
    assert [p.research_cost_usd for p in plan.proposals] == [0.75]
    refused = [e for e in Workspace.open(workspace).events() if e.kind == "refused"]
    assert len(refused) == 3 and refused[0].payload["request"] == "002"
    failing = Training(fail_after=1)
    plan = plan_batch(WorkspaceServices(Workspace.open(workspace), failing), [])
    assert plan.error.startswith("the researcher could not propose: ProposalFailed")
    assert [p.research_cost_usd for p in plan.proposals] == [0.75]  # 0.25 refused + 0.5 failed


def test_sharded_cases_merge_in_case_order(workspace):
    run_loop(
        workspace,
        experiments=1,
        parallel=PoolOptions(2, shard_cases=True, local=False),
        researcher=HeuristicResearcher(),
    )
    ws = Workspace.open(workspace)
    record = ws.record("001")
    gate = record.gates[-1].gate
    cases = [c.id for c in workspace_ruler(ws).gate_cases(gate)]
    rows = (workspace / "runlog" / "outputs" / "001.jsonl").read_text().splitlines()
    assert [json.loads(r)["case_id"] for r in rows] == cases
    assert record.status == "kept" and list(record.gates[-1].per_case_quality) == cases
    shards = [e for e in live_events(workspace) if e["kind"] == "shards"]
    assert shards and all(sorted(e["workers"].split("+")) == ["w1", "w2"] for e in shards)
    # the judging gate found every case's output where the shards left it, and ran none again
    assert all(e["reused"] == e["cases"] > 0 for e in shards), shards


def test_parallel_without_ray_names_the_extra(monkeypatch, workspace):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray → ImportError
    with pytest.raises(AutoresearchError, match=r"autoresearch\[scale\]"):
        require_ray()
    with pytest.raises(AutoresearchError, match=r"autoresearch\[scale\]"):
        run_loop(workspace, experiments=1, parallel=PoolOptions(2, local=False))
    assert not Workspace.open(workspace).record_ids()


def test_the_default_loop_never_imports_ray(workspace):
    code = (
        "import json, sys; from orchestrator.loop import run_loop; "
        f"summary = run_loop({str(workspace)!r}, experiments=1); "
        "print(json.dumps({'experiments': [r.id for r in summary.experiments], "
        "'ray': sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.'))}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    # the loop ran an experiment (a loop that did nothing would import nothing either)
    assert seen["experiments"] == ["001"], seen
    assert seen["ray"] == [], f"the default loop imported {seen['ray']}"
    assert Workspace.open(workspace).record_ids() == ["001"]
    # the in-process pool of one slot ran it
    assert {e["worker"] for e in live_events(workspace) if e.get("worker")} == {"w1"}


def test_supervised_asks_before_each_experiment_on_ray_workers(workspace):
    def supervised_run() -> Any:
        return run_loop(
            workspace,
            experiments=1,
            supervised=True,
            wait_for_approval=False,
            parallel=PoolOptions(2, local=False),
        )

    waiting = supervised_run().waiting_for
    assert waiting is not None and (waiting["type"], waiting["id"]) == ("experiment", "001")
    assert not Workspace.open(workspace).record_ids()  # nothing starts before the approval
    control.send(workspace, "approve", request="001")
    summary = supervised_run()
    assert [r.id for r in summary.experiments] == ["001"] and summary.waiting_for is None


def kill_mid_flight(ws: Path, started: int) -> None:
    """Start `run --parallel 2`; SIGKILL the driver when the `started`-th experiment starts."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [*CLI, "run", "-C", str(ws), "--experiments", "50", "--parallel", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    deadline = time.time() + 180
    live = ws / ".autoresearch" / "live.jsonl"
    while time.time() < deadline and proc.poll() is None:
        events = live_events(ws) if live.exists() else []
        count = sum(1 for e in events if e.get("node") == "run_experiment" and e.get("worker"))
        if count >= started:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return
        time.sleep(0.005)
    proc.kill()
    pytest.fail(f"the loop never started experiment #{started}")


def test_a_driver_killed_mid_flight_resumes_without_loss_or_repeat(tmp_path):
    ws = fast_workspace(tmp_path / "ws")
    kill_mid_flight(ws, started=2)  # 002 (and perhaps 003) under way
    before = Workspace.open(ws).record_ids()  # opening repairs a torn commit
    assert len(before) >= 1, before
    done = subprocess.run(
        [*CLI, "run", "-C", str(ws), "--experiments", "3", "--parallel", "2"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    after = Workspace.open(ws).record_ids()
    print(f"before the kill: {before}\nafter the resume: {after}")
    assert after[: len(before)] == before
    assert_consistent(ws, expected=len(before) + 3)
