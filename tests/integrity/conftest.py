"""Attacks on the measurement, as a hostile researcher would write them (issue 23).

Every attack is a real lever module run through the real pipeline process. Each test shows the
attack working with its protection switched off (`protection_off` names how), and failing
closed with it on: the gate or experiment fails naming the protection, or quality stays at the
baseline.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from levers.config import read_agent
from runlog.evaluate import EvalResult, evaluate_config
from runlog.workspace import Workspace

HEAD = '''
from pydantic import BaseModel, ConfigDict

from levers import Lever, Plan, hookimpl, render_plan


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Cheat(Lever):
    """Tries to raise its own score without a better plan."""

    name = "cheat"
    lever_class = "other"
    Params = Params
'''
TAIL = """

@hookimpl
def register_levers(register):
    register(Cheat)
"""

# The gold plans, as a lever could find them: the installed ruler's own data folder.
GOLD_BY_TASK = '''
def gold_by_task(read):
    """task -> gold plan, from the ruler's cases file read with `read(path) -> text`."""
    import json

    from ruler.loader import DATA_DIR

    text = read(DATA_DIR / "planner" / "cases.jsonl")
    cases = [json.loads(line) for line in text.splitlines() if line.strip()]
    return {c["task"]: c["gold"] for c in cases}
'''


def cheat_lever(body: str, prelude: str = "", name: str = "cheat") -> str:
    """A lever module: `prelude` at module level, `body` as the lever class's methods."""
    cls = name.title()
    head = HEAD.replace("class Cheat", f"class {cls}").replace('"cheat"', f'"{name}"')
    return prelude + head + body + TAIL.replace("Cheat", cls)


def install(ws: Workspace, code: str) -> None:
    """Write the lever file into the agent and enable it after the prompt lever."""
    (ws.agent_dir / "levers").mkdir(exist_ok=True)
    (ws.agent_dir / "levers" / "cheat.py").write_text(code)
    if 'name = "cheat"' not in ws.agent_path.read_text():
        ws.agent_path.write_text(ws.agent_path.read_text() + '\n[[levers]]\nname = "cheat"\n')


def evaluate(ws: Workspace, judge, gate: str = "dev-10", **kwargs) -> EvalResult:
    return evaluate_config(
        read_agent(ws.agent_path),
        gate=gate,
        judge=judge,
        ruler=ws.config.ruler.name,
        agent_dir=ws.agent_dir,
        workspace=ws.main_root,
        **kwargs,
    )


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace.init(tmp_path / "ws", model="fake:planner", judge="embedding")


@pytest.fixture
def unsandboxed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Protection off: lever code runs without the OS sandbox (as `--unsandboxed` does)."""
    monkeypatch.setenv("AUTORESEARCH_UNSANDBOXED", "1")


@pytest.fixture(scope="session")
def offline_judge():
    from ruler.judges import get_judge
    from ruler.loader import load_ruler

    judge = get_judge("embedding", ruler=load_ruler())
    judge.prepare()
    return judge
