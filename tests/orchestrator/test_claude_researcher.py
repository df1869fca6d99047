"""ClaudeResearcher over the real anthropic SDK with httpx2.MockTransport (recorded answers)."""

from __future__ import annotations

import json

import httpx2
import pytest

from orchestrator.loop import run_loop
from orchestrator.researchers.claude import ClaudeResearcher, parse_wire
from runlog.workspace import Workspace
from tests.anthropic_mock import mock_model, text_response

GOOD_LEVER = '''"""Ask for questions grounded in the task's own words."""

from levers.hookspecs import hookimpl
from levers.lever import Lever
from models.base import Message


class GroundedQuestions(Lever):
    """Append an instruction to use the task's own nouns in every question."""

    name = "grounded"
    lever_class = "prompt"

    @hookimpl
    def build_messages(self, ctx):
        if not ctx.messages:  # alone (as in validation's smoke case) there is nothing to amend
            return
        last = ctx.messages[-1]
        ctx.messages[-1] = Message(role=last.role, content=last.content +
                                   " Use the task's own words in every question.")


@hookimpl
def register_levers(register):
    register(GroundedQuestions)
'''
BROKEN_LEVER = "from levers.hookspecs import hookimpl\n\nclass Grounded(:\n    pass\n"


def answer(
    hypothesis: str,
    patch: dict,
    code: str | None = None,
    filename: str | None = None,
    lever_class: str = "prompt",
) -> httpx2.Response:
    payload = {
        "hypothesis": hypothesis,
        "method": "one change",
        "lever_class": lever_class,
        "agent_patch_json": json.dumps(patch),
        "lever_code": code,
        "lever_filename": filename,
        "training_request": None,
    }
    return text_response(
        json.dumps(payload), input_tokens=2400, output_tokens=300, cache_read_input_tokens=2000
    )


class Script:
    def __init__(self, *responses: httpx2.Response):
        self.responses = list(responses)
        self.bodies: list[dict] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.bodies.append(json.loads(request.content))
        return self.responses.pop(0)


def researcher(script: Script) -> ClaudeResearcher:
    return ClaudeResearcher(model=mock_model(script, max_retries=0))


@pytest.fixture
def workspace(tmp_path):
    return Workspace.init(
        tmp_path / "ws",
        model="fake:planner",
        judge="fake:judge",
        researcher="anthropic:claude-sonnet-4-6",
    ).main_root


PATCH = {"levers": [{"name": "prompt", "params": {}}, {"name": "grounded", "params": {}}]}


def test_notes_and_log_reach_claude_and_a_repaired_lever_runs(workspace):
    script = Script(
        answer("Baseline", {}, lever_class="other"),
        answer(
            "Grounding questions in the task's words helps specificity",
            PATCH,
            BROKEN_LEVER,
            "grounded.py",
        ),
        answer(
            "Grounding questions in the task's words helps specificity",
            PATCH,
            GOOD_LEVER,
            "grounded.py",
        ),
    )
    from orchestrator import control

    control.send(workspace, "note", "try grounding the questions in the task")
    run_loop(workspace, experiments=2, researcher=researcher(script))
    first_user = script.bodies[0]["messages"][0]["content"]
    assert "try grounding the questions in the task" in first_user
    assert script.bodies[0]["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert "register_levers" in script.bodies[0]["system"][0]["text"]  # the hookspec docs
    assert script.bodies[0]["output_config"]["format"]["type"] == "json_schema"
    assert "results.tsv" in script.bodies[1]["messages"][0]["content"]
    assert "failed validation" in script.bodies[2]["messages"][0]["content"]
    ws = Workspace.open(workspace)
    record = ws.record("002")
    assert record.status in ("kept", "discarded"), record.failure
    assert "levers/grounded.py" in [f.name for f in record.lever_files]
    assert ws.record("001").notes_seen == ["try grounding the questions in the task"]


def test_a_lever_that_stays_broken_is_a_failed_experiment(workspace):
    script = Script(
        answer("Baseline", {}, lever_class="other"),
        answer("A broken idea", PATCH, BROKEN_LEVER, "grounded.py"),
        answer("A broken idea", PATCH, BROKEN_LEVER, "grounded.py"),
    )
    run_loop(workspace, experiments=2, researcher=researcher(script))
    record = Workspace.open(workspace).record("002")
    assert record.status == "failed"
    assert "validation failed at parse" in record.failure


def test_a_malformed_answer_raises_for_the_graph_to_record():
    with pytest.raises(ValueError, match="not valid JSON"):
        parse_wire("I think you should try RAG.")
