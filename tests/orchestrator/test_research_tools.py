"""The research tools one by one: bad calls are answered, not raised; sources stay read-only
and inside agent/; drafts are staged per experiment; a local candidate is smoke-tested too."""

from __future__ import annotations

import pytest

from orchestrator.researchers.base import LogView
from orchestrator.researchers.claude.holdout import Holdout
from orchestrator.researchers.claude.tools import ResearchTools
from ruler.loader import load_ruler
from runlog.workspace import Workspace
from tests.orchestrator.research_mock import GOOD_LEVER


@pytest.fixture
def tools(tmp_path):
    ws = Workspace.init(tmp_path / "ws", model="fake:planner", judge="fake:judge")
    log = LogView(best_agent={"model": "fake:planner", "levers": [{"name": "prompt"}]})
    return ResearchTools(ws, Holdout.of(load_ruler(), "dev-10", "full-30"), log, exp_id="001")


def test_bad_calls_come_back_as_errors(tools):
    assert tools.call("rm", {}).text.startswith("ERROR: no tool 'rm'")
    assert tools.call("experiment", {"id": "042"}).text.startswith("ERROR: no experiment")
    assert "only files under agent/" in tools.call("read_source", {"path": "../.git/config"}).text
    assert "no lever 'nope'" in tools.call("read_source", {"path": "lever:nope"}).text
    assert (
        "python identifier" in tools.call("write_lever", {"filename": "../x.py", "code": ""}).text
    )
    assert tools.call("results", {"bogus": 1}).text.startswith("ERROR:")
    assert (
        "write_lever first"
        in tools.call(
            "submit",
            {
                "hypothesis": "h",
                "method": "",
                "lever_class": "prompt",
                "lever_filename": "ghost.py",
            },
        ).text
    )


def test_a_draft_is_staged_validated_in_the_agent_and_readable(tools):
    report = tools.call("write_lever", {"filename": "grounded.py", "code": GOOD_LEVER}).text
    assert report.startswith("agent/levers/grounded.py: ok (grounded)")
    assert not (tools.ws.agent_dir / "levers" / "grounded.py").exists()  # only staged
    assert tools.staging == tools.ws.state_dir / "research" / "001" / "levers"
    assert "class GroundedQuestions" in tools.read_source("agent/levers/grounded.py")
    other = ResearchTools(tools.ws, tools.holdout, tools.log, exp_id="002")
    other.clear_other_drafts()
    assert not tools.staging.exists()


def test_a_local_candidate_is_smoke_tested_beside_the_fake_model(tools):
    assert tools.smoke_models() == ["fake:planner"]
    tools.log = LogView(best_agent={"model": "local:smollm2-135m"})
    assert tools.smoke_models() == ["fake:planner", "local:smollm2-135m"]
