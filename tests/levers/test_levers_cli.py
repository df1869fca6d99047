"""`autoresearch levers`, `levers validate`, `plan --agent` and `eval` through click."""

from __future__ import annotations

import json

from click.testing import CliRunner

from orchestrator.cli import cli, load_commands
from ruler.records import Verdict, dimensions_for
from runlog import evaluate

load_commands()


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_levers_lists_six_builtins_as_table_and_json():
    table = invoke("levers")
    assert table.exit_code == 0
    for name in ("prompt", "decoding", "rag", "multi_call", "self_critique", "adapter"):
        assert name in table.output
    rows = json.loads(invoke("levers", "--json").output)
    assert {r["name"]: r["source"] for r in rows}["rag"] == "builtin"
    assert rows[0]["params_schema"]["properties"]["few_shot"]["maximum"] == 5


def test_levers_validate_reports_and_exits_1_on_failure(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def (:\n")
    result = invoke("levers", "validate", str(bad))
    assert result.exit_code == 1 and "failed at parse" in result.output


def test_plan_runs_the_agent_pipeline(tmp_path):
    agent = tmp_path / "agent.toml"
    agent.write_text(
        'model = "fake:planner"\n[[levers]]\nname = "multi_call"\n'
        '[levers.params]\nmode = "decompose"\n'
    )
    out = json.loads(invoke("plan", "plan a trip to Paris", "--agent", str(agent), "--json").output)
    assert len(out["questions"]) == 7
    assert len(out["trace"]) == 8
    text = invoke("plan", "plan a trip to Paris", "--model", "fake:planner").output
    assert text.splitlines()[1].startswith("1. ")


class StubJudge:
    """Scores 4 on every dimension and ties, except a tiny candidate, which loses."""

    judge_id = "stub"
    calls = 0

    def judge(self, case, candidate_text, mode="standard"):
        self.calls += 1
        ok = len(candidate_text) > 20
        return Verdict(
            case_id=case.id,
            judge_id=self.judge_id,
            mode=mode,
            scores={d: 4 if ok else 1 for d in dimensions_for(mode)},
            outcome="T" if ok else "L",
        )

    def judge_many(self, pairs, mode="standard"):
        return [self.judge(case, text, mode) for case, text in pairs]


def test_eval_runs_the_gate_and_prints_quality(monkeypatch):
    monkeypatch.setattr(evaluate, "get_judge", lambda spec="embedding", **kw: StubJudge())

    def invoke_eval(*args: str):
        return CliRunner().invoke(load_commands(), ["eval", *args], catch_exceptions=False)

    result = invoke_eval("--model", "fake:planner", "--gate", "dev-10", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output[result.output.index("{") :])
    assert out["gate"] == "dev-10" and out["model_calls"] == 10
    assert out["ties"] == 10
    table = invoke_eval("--model", "fake:planner")
    assert "quality" in table.output and "0/10/0" in table.output
