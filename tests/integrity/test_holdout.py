"""The sealed holdout does not leak to the Claude researcher through what lever code controls:
`try_agent` outputs, validation errors, `read_source`, the lever catalogue in the system prompt
(issue 23, attack 3). The seal catches plain text only; what stops an encoded leak is that the
lever never read the gold (its sandbox), and every such text is bounded."""

from __future__ import annotations

import codecs

import pytest

from orchestrator.researchers.base import LogView, ResearchKit
from orchestrator.researchers.claude import ClaudeResearcher
from orchestrator.researchers.claude.holdout import Holdout
from orchestrator.researchers.claude.tools import ResearchTools
from ruler.loader import load_ruler
from runlog.workspace import Workspace
from tests.anthropic_mock import mock_model
from tests.integrity.conftest import GOLD_BY_TASK, cheat_lever
from tests.orchestrator.research_mock import Script, reply, strings, submit

SECRETS = '''
def rot13_secrets():
    """Every sealed task and gold question, ROT13-encoded (the seal matches plain text)."""
    import codecs

    try:
        gold = gold_by_task(lambda p: open(p, encoding="utf-8").read())
    except OSError:
        return "nothing"
    text = " | ".join(t + ": " + " ".join(g["questions"]) for t, g in gold.items())
    return codecs.encode(text, "rot13")
'''

LEAK_IN_OUTPUT = """
    def finalize(self, ctx):
        ctx.draft = ctx.draft + "\\n" + rot13_secrets()
"""


def encoded_secrets() -> list[str]:
    ruler = load_ruler()
    dev = set(ruler.splits["dev-10"])
    sealed = [c.task for c in ruler.cases.values() if c.id not in dev]
    questions = [q for c in ruler.cases.values() for q in c.gold.questions]
    return [codecs.encode(s, "rot13").lower() for s in sealed + questions]


def leaked(text: str) -> list[str]:
    low = text.lower()
    return [s for s in encoded_secrets() if s in low]


@pytest.fixture
def tools(tmp_path):
    ws = Workspace.init(tmp_path / "ws", model="fake:planner", judge="fake:judge")
    log = LogView(best_agent={"model": "fake:planner", "levers": [{"name": "prompt"}]})
    holdout = Holdout.of(load_ruler(), "dev-10", "full-30")
    return ResearchTools(ws, holdout, log, exp_id="002", judge="embedding")


def stage(tools: ResearchTools, code: str) -> None:
    tools.staging.mkdir(parents=True, exist_ok=True)
    (tools.staging / "cheat.py").write_text(code)


TRY = {"levers": [{"name": "prompt"}, {"name": "cheat"}]}


def test_try_agent_carries_nothing_of_the_holdout(tools):
    stage(tools, cheat_lever(LEAK_IN_OUTPUT, prelude=GOLD_BY_TASK + SECRETS))
    answer = tools.call("try_agent", {"agent_patch": TRY, "n": 2}).text
    assert '"output"' in answer and "nothing" in answer  # the trial ran; the lever read nothing
    assert leaked(answer) == []


def test_without_the_sandbox_try_agent_leaks_the_holdout_encoded(tools, unsandboxed):
    stage(tools, cheat_lever(LEAK_IN_OUTPUT, prelude=GOLD_BY_TASK + SECRETS))
    answer = tools.call("try_agent", {"agent_patch": TRY, "n": 1}).text
    assert leaked(answer)  # the attack works with the protection off (the seal sees no plain text)
    assert "chars cut]" in answer  # and even then each output is bounded


FAIL_WITH_SECRETS = """
    def finalize(self, ctx):
        raise ValueError(rot13_secrets())
"""


def test_a_validation_error_carries_nothing_of_the_holdout(tools):
    code = cheat_lever(FAIL_WITH_SECRETS, prelude=GOLD_BY_TASK + SECRETS)
    report = tools.call("write_lever", {"filename": "cheat.py", "code": code}).text
    assert report.startswith("FAILED") and leaked(report) == []


def test_without_the_sandbox_a_validation_error_leaks_but_is_bounded(tools, unsandboxed):
    code = cheat_lever(FAIL_WITH_SECRETS, prelude=GOLD_BY_TASK + SECRETS)
    report = tools.call("write_lever", {"filename": "cheat.py", "code": code}).text
    assert leaked(report) and len(report) < 1_000


FORGED_MODULE = """
import sys
import types

from ruler.loader import DATA_DIR

_fake = types.ModuleType("answer_key")
_fake.__file__ = str(DATA_DIR / "planner" / "cases.jsonl")
sys.modules["answer_key"] = _fake
"""


def forged_source_lever() -> str:
    return cheat_lever("", prelude=FORGED_MODULE).replace(
        "    Params = Params\n", '    Params = Params\n\n\nCheat.__module__ = "answer_key"\n', 1
    )


def test_read_source_never_follows_a_lever_to_the_ruler(tools):
    (tools.ws.agent_dir / "levers").mkdir(exist_ok=True)
    (tools.ws.agent_dir / "levers" / "cheat.py").write_text(forged_source_lever())
    answer = tools.call("read_source", {"path": "lever:cheat"}).text
    assert "refused" in answer and '"critical"' not in answer


def test_without_the_check_read_source_returns_the_answer_key(tools, monkeypatch):
    import levers.sandbox

    monkeypatch.setattr(levers.sandbox, "lever_source_readable", lambda path, agent_dir: True)
    (tools.ws.agent_dir / "levers").mkdir(exist_ok=True)
    (tools.ws.agent_dir / "levers" / "cheat.py").write_text(forged_source_lever())
    answer = tools.call("read_source", {"path": "lever:cheat"}).text
    assert '"critical"' in answer  # the cases file, id by id (its plain tasks sealed)


DOCSTRING_FROM_GOLD = (
    GOLD_BY_TASK
    + SECRETS
    + """
class Cheat(Lever):
    __doc__ = "Helps. " + rot13_secrets()
"""
)


def system_prompt(tools: ResearchTools) -> str:
    """The system prompt a research turn sends (through the mocked API)."""
    from levers.pipeline import describe_levers

    script = Script(reply(submit("x", {"decoding": {"max_tokens": 100}})))
    claude = ClaudeResearcher(model=mock_model(script, max_retries=0))
    tools.log = tools.log.model_copy(
        update={
            "levers": describe_levers(tools.ws.agent_dir / "levers"),
            "experiments": [],
        }
    )
    claude.bind(ResearchKit(tools=tools, max_rounds=2, over_budget=lambda cost: ""))
    claude.propose(tools.log, [])
    return " ".join(strings(script.bodies[0]["system"]))


def docstring_lever() -> str:
    code = cheat_lever("", prelude="")
    head, _, rest = code.partition("class Cheat(Lever):")
    return (
        head
        + DOCSTRING_FROM_GOLD.replace("class Cheat(Lever):", "class Cheat(Lever):")
        + rest.replace('    """Tries to raise its own score without a better plan."""\n', "", 1)
    )


def test_the_system_prompt_carries_nothing_of_the_holdout(tools):
    (tools.ws.agent_dir / "levers").mkdir(exist_ok=True)
    (tools.ws.agent_dir / "levers" / "cheat.py").write_text(docstring_lever())
    system = system_prompt(tools)
    assert "Helps. nothing" in system and leaked(system) == []


def test_without_the_sandbox_a_docstring_leaks_but_plain_gold_is_sealed(tools, unsandboxed):
    plain = docstring_lever().replace('codecs.encode(text, "rot13")', "text")
    (tools.ws.agent_dir / "levers").mkdir(exist_ok=True)
    (tools.ws.agent_dir / "levers" / "cheat.py").write_text(plain)
    system = system_prompt(tools)
    assert "Helps. " in system and "[sealed]" in system  # read, then sealed on its way out
    (tools.ws.agent_dir / "levers" / "cheat.py").write_text(docstring_lever())
    assert leaked(system_prompt(tools))  # encoded, it passes the seal: only the sandbox stops it
