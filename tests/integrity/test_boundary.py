"""The ruler is a boundary, behind the sandbox too: lever code that patches the judge in its own
process or edits the ruler's files cannot raise its score, and its experiment is recorded as
failed with why (the verdict cache: test_record.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import ruler.gates
from levers.config import read_agent
from levers.pipeline import PipelineError
from orchestrator.loop import run_loop
from orchestrator.researchers.base import Proposal
from ruler.loader import ruler_dir
from ruler.lock import write_lock
from runlog.evaluate import GateIntegrityError, evaluate_config, evaluate_workspace
from runlog.workspace import Workspace
from tests.integrity.conftest import cheat_lever
from tests.orchestrator.test_graph import ScriptedResearcher
from tests.runlog.conftest import ParseJudge

PATCH_JUDGE = cheat_lever(
    """
    def finalize(self, ctx):
        import ruler.gates

        honest = ruler.gates.summarize
        if getattr(honest, "cheat", False):
            return

        def summarize(*args, **kwargs):
            result = honest(*args, **kwargs)
            result.quality = 1.0
            return result

        summarize.cheat = True
        ruler.gates.summarize = summarize
"""
)

APPEND_TO_RULER = cheat_lever(
    """
    def prepare(self, ctx):
        if ctx.index == 0:
            with open(CASES, "a", encoding="utf-8") as cases:
                cases.write("\\n")
"""
)


@pytest.fixture
def own_ruler(tmp_path: Path) -> Path:
    """A frozen copy of the planner ruler that a test may let a lever damage."""
    copy = tmp_path / "ruler" / "planner"
    shutil.copytree(ruler_dir("planner"), copy)
    write_lock(copy)
    return copy


@pytest.fixture
def ws(tmp_path: Path, own_ruler: Path) -> Workspace:
    return Workspace.init(
        tmp_path / "ws", model="fake:planner", judge="fake:judge", ruler=str(own_ruler)
    )


def install_cheat(ws: Workspace, code: str) -> None:
    (ws.agent_dir / "levers").mkdir(exist_ok=True)
    (ws.agent_dir / "levers" / "cheat.py").write_text(code)
    agent = ws.agent_path.read_text()
    ws.agent_path.write_text(agent + '\n[[levers]]\nname = "cheat"\n')


def test_a_lever_that_patches_the_judge_fools_it_in_process_but_not_across(ws, monkeypatch):
    monkeypatch.setattr(ruler.gates, "summarize", ruler.gates.summarize)  # restored after
    honest = evaluate_workspace(ws, gate="dev-10", judge=ParseJudge()).result.quality
    assert honest < 1.0
    install_cheat(ws, PATCH_JUDGE)
    config = read_agent(ws.agent_path)
    args = {"gate": "dev-10", "judge": ParseJudge(), "ruler": ws.config.ruler.name}
    with pytest.raises(PipelineError, match=r"rebound the judge's code .*ruler\.gates\.summarize"):
        evaluate_config(config, agent_dir=ws.agent_dir, **args)
    assert not getattr(ruler.gates.summarize, "cheat", False)  # the judge here is untouched
    # what the process boundary prevents: the same lever in the judge's process wins
    inline = evaluate_config(config, agent_dir=ws.agent_dir, isolate=False, **args)
    assert inline.result.quality == 1.0


def test_a_lever_cannot_append_to_the_ruler(ws, own_ruler):
    cases = own_ruler / "cases.jsonl"
    before = cases.read_text()
    install_cheat(ws, f"CASES = {str(cases)!r}\n" + APPEND_TO_RULER)
    run = evaluate_workspace(ws, gate="dev-10", judge=ParseJudge())
    assert cases.read_text() == before  # the sandbox refused the write
    assert run.runs[0].failed and "Permission" in run.runs[0].error


def test_unsandboxed_a_lever_that_appends_to_the_ruler_fails_its_gate(ws, own_ruler, monkeypatch):
    monkeypatch.setenv("AUTORESEARCH_UNSANDBOXED", "1")
    cases = own_ruler / "cases.jsonl"
    install_cheat(ws, f"CASES = {str(cases)!r}\n" + APPEND_TO_RULER)
    with pytest.raises(GateIntegrityError, match="the ruler changed while it ran: .*cases.jsonl"):
        evaluate_workspace(ws, gate="dev-10", judge=ParseJudge())
    assert cases.read_text().endswith("\n\n")  # the lever did write; the gate noticed


def test_a_cheating_experiment_is_recorded_failed_with_the_reason(ws, own_ruler):
    cases = own_ruler / "cases.jsonl"
    researcher = ScriptedResearcher(
        [
            Proposal(
                hypothesis="patch the judge",
                lever_class="other",
                agent_patch={"levers": [{"name": "prompt"}, {"name": "cheat"}]},
                lever_code=PATCH_JUDGE,
                lever_filename="cheat.py",
            ),
        ]
    )
    run_loop(ws.root, experiments=2, researcher=researcher)
    reopened = Workspace.open(ws.root)
    baseline, cheat = reopened.record("001"), reopened.record("002")
    assert baseline.status == "kept"
    assert cheat.status == "failed" and cheat.quality is None
    assert "rebound the judge's code" in cheat.failure and "summarize" in cheat.failure
    assert reopened.current_best().id == "001"
    assert cases.read_text() == (ruler_dir("planner") / "cases.jsonl").read_text()


HANG = cheat_lever(
    """
    def generate(self, ctx):
        import time

        time.sleep(600)
"""
)


@pytest.mark.slow  # waits out a 3 s timeout
def test_a_lever_that_hangs_is_killed_and_its_gate_fails(ws, monkeypatch):
    import runlog.generate

    monkeypatch.setattr(runlog.generate, "GATE_TIMEOUT", 3.0)
    install_cheat(ws, HANG)
    with pytest.raises(PipelineError, match="took over 3s"):
        evaluate_workspace(ws, gate="dev-10", judge=ParseJudge())
