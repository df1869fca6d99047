"""The lever pipeline process: one warm worker per agent, a clean channel, failures as data."""

from __future__ import annotations

import pytest

from levers.config import BASELINE_AGENT
from levers.forkserver import FORKSERVER_ENV
from levers.pipeline import PipelineError, close_pipelines, warm_worker
from runlog.evaluate import evaluate_config, evaluate_workspace
from runlog.workspace import Workspace
from tests.runlog.conftest import ParseJudge


@pytest.fixture(autouse=True)
def spawned(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about the spawned worker (test_forkserver tests the forked one)."""
    monkeypatch.setenv(FORKSERVER_ENV, "off")


LEVER = '''
import os

from pydantic import BaseModel, ConfigDict

from levers import Lever, hookimpl


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Noisy(Lever):
    """Prints in every stage; may end its own process."""

    name = "noisy"
    lever_class = "other"
    Params = Params

    def prepare(self, ctx):
        print('{"reply": {"runs": []}}')  # a forged reply on stdout goes to stderr
        if EXIT:
            os._exit(3)
'''
TAIL = """

@hookimpl
def register_levers(register):
    register(Noisy)
"""


def use_lever(ws: Workspace, exit_code: bool) -> None:
    (ws.agent_dir / "levers").mkdir(exist_ok=True)
    (ws.agent_dir / "levers" / "noisy.py").write_text(f"EXIT = {exit_code}\n" + LEVER + TAIL)
    ws.agent_path.write_text(ws.agent_path.read_text() + '\n[[levers]]\nname = "noisy"\n')


def test_a_lever_printing_to_stdout_cannot_forge_the_reply(ws: Workspace) -> None:
    use_lever(ws, exit_code=False)
    result = evaluate_workspace(ws, gate="dev-10", judge=ParseJudge())
    assert len(result.runs) == 10 and not any(r.failed for r in result.runs)
    assert all(r.text for r in result.runs)


def test_a_lever_that_ends_the_worker_fails_the_gate_with_the_reason(ws: Workspace) -> None:
    use_lever(ws, exit_code=True)
    with pytest.raises(PipelineError, match=r"pipeline process exited \(code 3\)"):
        evaluate_workspace(ws, gate="dev-10", judge=ParseJudge())
    assert warm_worker() is None  # the broken worker is not kept


def test_the_worker_stays_warm_for_one_agent_and_not_for_the_next(ws: Workspace) -> None:
    close_pipelines()
    args = {"gate": "dev-10", "judge": ParseJudge(), "ruler": "planner"}
    agent = BASELINE_AGENT.model_copy(update={"model": "fake:planner"})
    planned = evaluate_config(agent, **args)
    first = warm_worker()
    assert first is not None
    evaluate_config(agent, **args)  # the same agent's next gate: the same process
    assert warm_worker() is first
    # another agent of installed code only: the same process, prepared for it (the model
    # stays loaded); its outputs are its own
    other = agent.model_copy(update={"model": "fake:echo"})
    echoed = evaluate_config(other, **args)
    assert warm_worker() is first and first.alive
    assert [r.text for r in echoed.runs] != [r.text for r in planned.runs]
    # an agent with lever files of its own: a fresh process, and the one that loaded them
    # never serves another agent (its lever code never runs again)
    use_lever(ws, exit_code=False)
    evaluate_workspace(ws, gate="dev-10", judge=ParseJudge())
    tainted = warm_worker()
    assert tainted is not first and not first.alive and not tainted.installed_only
    evaluate_config(agent, **args)
    assert warm_worker() is not tainted and not tainted.alive
    close_pipelines()
    assert warm_worker() is None
