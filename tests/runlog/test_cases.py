"""Per-case views (`show NNN --cases`, `eval --cases`), `eval --compare`, `levers -C`, and the
splits column of `ruler show --cases`."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from orchestrator.cli import load_commands
from ruler.quality import compare, sign_test
from runlog import evaluate
from runlog.cases import experiment_cases
from runlog.compare import compare_agents
from runlog.evaluate import evaluate_workspace
from runlog.workspace import Workspace
from tests.runlog.conftest import ParseJudge, make_record, set_agent


class NotesJudge(ParseJudge):
    """ParseJudge with a two-part rationale, as real judges write one."""

    def judge(self, case, candidate_text, mode="standard"):
        verdict = super().judge(case, candidate_text, mode)
        return verdict.model_copy(update={"rationale": "coverage 1: gold missed; pairwise L"})


@pytest.fixture
def cli(monkeypatch):
    monkeypatch.setattr(evaluate, "resolve_judge", lambda spec, ruler=None: NotesJudge())
    return load_commands()


def invoke(cli, *args: str, code: int = 0):
    result = CliRunner(env={"COLUMNS": "80"}).invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def _echo_experiment(ws: Workspace) -> None:
    """exp001: an agent that echoes its prompt (one question, so `not_seven`), with outputs."""
    set_agent(ws, "echo agent", model="fake:echo")
    done = evaluate_workspace(ws, gate="dev-10", judge=NotesJudge())
    record = make_record("001", "echo agent", "kept", None)
    ws.commit_experiment(record.model_copy(update={"gates": [done.result]}), done.outputs())


def test_experiment_cases_hold_plan_problems_scores_and_rationale(ws: Workspace) -> None:
    _echo_experiment(ws)
    views = experiment_cases(ws, "1")
    assert len(views) == 10
    first = views[0]
    assert first.case_id == "c01" and first.task == "plan a trip to Paris"
    assert first.splits == ["dev-10", "full-30"]
    assert "not_seven" in first.problems and len(first.questions) != 7
    assert first.scores and first.outcome in "WTL" and first.quality is not None
    assert first.rationale == ["coverage 1: gold missed", "pairwise L"]


def test_show_cases_prints_each_case_and_json_has_all_of_it(cli, ws: Workspace) -> None:
    _echo_experiment(ws)
    text = invoke(cli, "show", "001", "-C", str(ws.root), "--cases")
    assert "c01 [dev-10, full-30]" in text and "plan a trip to Paris" in text
    problems = next(line for line in text.splitlines() if line.startswith("  problems "))
    assert "not_seven" in problems and "judge    coverage 1: gold missed" in text
    assert max(len(line) for line in text.splitlines()) <= 80
    data = json.loads(invoke(cli, "show", "001", "-C", str(ws.root), "--cases", "--json"))
    assert data["name"] == "exp001" and len(data["cases"]) == 10
    case = data["cases"][0]
    assert {"plan", "questions", "problems", "scores", "rationale"} - {"plan"} <= set(case)
    assert "not_seven" in case["problems"] and case["scores"]["coverage"] >= 1


def test_eval_cases(cli, ws: Workspace) -> None:
    text = invoke(cli, "eval", "-C", str(ws.root), "--gate", "dev-10", "--cases")
    assert "quality" in text and "c01 [dev-10, full-30]" in text and "problems none" in text
    data = json.loads(
        invoke(cli, "eval", "-C", str(ws.root), "--gate", "dev-10", "--cases", "--json")
    )
    assert len(data["cases"]) == 10 and len(data["cases"][0]["questions"]) == 7


def _broken_then_fixed(ws: Workspace) -> None:
    set_agent(ws, "one word", max_tokens=1)  # never a plan: loses every case
    ws.commit_experiment(make_record("001", "one word", "kept", 0.1))
    set_agent(ws, "planner agent")  # the work tree: seven questions every time


def test_compare_agents_is_the_keep_policys_paired_comparison(ws: Workspace) -> None:
    _broken_then_fixed(ws)
    paired = compare_agents(ws, "exp/001", gate="dev-10", judge=NotesJudge())
    again = compare(paired.other.result, paired.reference.result)
    assert paired.comparison == again
    assert paired.comparison.wins == 10 and paired.comparison.delta > 0


def test_eval_compare_prints_both_qualities_delta_interval_and_sign_test(cli, ws) -> None:
    _broken_then_fixed(ws)
    text = invoke(cli, "eval", "-C", str(ws.root), "--compare", "exp/001", "--gate", "dev-10")
    lines = text.splitlines()
    assert lines[1].startswith("reference exp/001") and "W/T/L vs gold 0/0/10" in lines[1]
    assert lines[2].startswith("other     work tree") and "W/T/L vs gold 0/10/0" in lines[2]
    assert lines[3].startswith("paired Δ +") and "95% bootstrap [+" in lines[3]
    assert f"10/0/0 · sign test p={sign_test(10, 0):.3f}" in lines[4]
    assert lines[5].startswith("keep policy, were this gate decisive: kept (dev-10: lower bound")
    args = ("eval", "-C", str(ws.root), "--compare", "exp/001", "--gate", "dev-10", "--json")
    data = json.loads(invoke(cli, *args))
    assert data["reference"]["quality"] < data["other"]["quality"]
    assert data["delta"] == pytest.approx(data["other"]["quality"] - data["reference"]["quality"])
    assert data["delta_interval"]["low"] > 0 and data["paired_wins"] == 10
    assert data["sign_test_p"] == pytest.approx(sign_test(10, 0))
    # --ref picks the other side; the same agent on both sides differs nowhere
    same = json.loads(invoke(cli, *args, "--ref", "exp/001"))
    assert same["delta"] == 0 and same["paired_ties"] == 10 and same["sign_test_p"] == 1.0
    assert (data["keep_policy"]["status"], same["keep_policy"]["status"]) == ("kept", "discarded")
    invoke(cli, *args[:-1], "--check", "delta > 0")
    invoke(cli, *args[:-1], "--check", "delta < 0", code=1)


LEVER = """
from levers import Lever, hookimpl


class Shout(Lever):
    "Shout."
    name = "shout"


@hookimpl
def register_levers(register):
    register(Shout)
"""


def test_levers_takes_a_workspace_folder(cli, ws: Workspace, tmp_path, monkeypatch) -> None:
    from levers.registry import unload_lever_files

    (ws.agent_dir / "levers" / "shout.py").write_text(LEVER)
    monkeypatch.chdir(tmp_path)
    assert "shout" not in {row["name"] for row in json.loads(invoke(cli, "levers", "--json"))}
    try:
        rows = json.loads(invoke(cli, "levers", "-C", str(ws.root), "--json"))
        assert {r["name"]: r["plugin"] for r in rows}["shout"] == "workspace:shout.py"
    finally:
        unload_lever_files()


def test_ruler_show_cases_marks_each_cases_splits(cli, ruler_name: str) -> None:
    from ruler.loader import load_ruler

    ruler = load_ruler(ruler_name)
    text = CliRunner(env={"COLUMNS": "200"}).invoke(cli, ["ruler", "show", ruler_name, "--cases"])
    dev, full = set(ruler.splits["dev-10"]), set(ruler.splits["full-30"])
    rows = [
        line for line in text.output.splitlines() if line.startswith("│ c") and "cases " not in line
    ]
    assert len(rows) == len(ruler.cases)
    for line in rows:
        case_id = line.split("│")[1].strip()
        splits = line.split("│")[2].strip()
        assert ("dev-10" in splits) == (case_id in dev) and ("full-30" in splits) == (
            case_id in full
        )


def test_show_cases_of_a_failed_experiment_says_there_are_none(cli, ws: Workspace) -> None:
    ws.commit_experiment(make_record("001", "broken lever", "failed", None))
    assert "no per-case outputs recorded" in invoke(cli, "show", "1", "-C", str(ws.root), "--cases")
