"""The command line's edges a person touches (issue 27): the headline in `status`, `--help`
sections, `note ""`, progress off a terminal, raw text of unparseable cases, table words."""

from __future__ import annotations

import io
import re

import pytest
from click.testing import CliRunner

from orchestrator.cli import HELP_SECTIONS, load_commands
from orchestrator.cli.progress import StageProgress
from orchestrator.cli.render_cases import case_text
from orchestrator.researchers import make_researcher
from runlog.cases import CaseView
from runlog.records import ReferenceRecord
from runlog.reference.headline import QUALITY_FORMULA, headline
from runlog.reference.store import commit_reference
from tests.orchestrator.test_cli_tables import LONG, rendered
from tests.runlog.conftest import gate_result, make_record, ruler_name, ws  # noqa: F401


@pytest.fixture(scope="module")
def cli():
    return load_commands()


def invoke(cli, *args: str, code: int = 0) -> str:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def reference(ref_id: str, kind: str, quality: float, candidate: str) -> ReferenceRecord:
    return ReferenceRecord(
        id=ref_id,
        kind=kind,
        title=kind,
        gates=[gate_result(quality)],
        model_ids={"candidate": candidate},
    )


def test_status_answers_how_close_in_its_first_three_lines(cli, ws, monkeypatch) -> None:  # noqa: F811
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    ws.commit_experiment(make_record("001", "baseline", "kept", 0.38, "baseline"))
    before = invoke(cli, "status", "-C", str(ws.root)).splitlines()
    assert before[0].startswith("closeness  exp001 quality 0.380 (dev-10, judge embedding")
    assert "autoresearch ceiling --gold" in before[0]
    assert "cloud ceiling not measured" in before[1]

    commit_reference(ws, reference("ref001", "gold", 0.6, "gold"))
    commit_reference(ws, reference("ref002", "ceiling", 0.5, "anthropic:claude-haiku-4-5"))
    other_gate = reference("ref003", "ceiling", 0.9, "anthropic:claude-opus-4-1")
    other_gate.gates = [gate_result(0.9, gate="full-30")]  # not comparable: another gate
    commit_reference(ws, other_gate)
    lines = invoke(cli, "status", "-C", str(ws.root)).splitlines()
    assert lines[0] == (
        "closeness  exp001 reaches 63% of the gold: quality 0.380 vs 0.600 for the gold itself "
        "(dev-10, judge embedding (standard))"
    )
    assert "vs gold W/T/L 2/5/3" in lines[1] and "gold is better in 3 of 10" in lines[1]
    assert "cloud ceiling 0.500 (anthropic:claude-haiku-4-5)" in lines[1]
    assert lines[2] == "needs you  nothing: the loop needs no answer from you"
    text = "\n".join(lines)
    assert type(make_researcher("auto")).__name__ == "HeuristicResearcher"
    assert "researcher heuristic (auto: no ANTHROPIC_API_KEY" in text
    assert text.count("calibration") == 1 and "researcher's predicted Δ:" in text
    assert "uncommitted" not in text
    assert headline(ws).share_of_gold == pytest.approx(0.38 / 0.6)


def test_status_says_what_waits_for_the_user(cli, ws) -> None:  # noqa: F811
    from orchestrator import control
    from orchestrator.control import LiveStatus

    request = {"id": "req-3", "kind": "sft", "rationale": "plateau"}
    control.write_status(ws.root, LiveStatus(state="waiting_for_approval", pending_request=request))
    lines = invoke(cli, "status", "-C", str(ws.root)).splitlines()
    assert lines[0].startswith("closeness  no kept experiment yet")
    assert lines[2].startswith("needs you  sft req-3 waits for you: autoresearch approve")


def test_the_quality_formula_is_stated_where_users_read() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert "0.5 × (mean rubric − 1)/4 + 0.5 × (W + T/2)/N" in readme
    assert "0.5 × (mean rubric − 1)/4 + 0.5 × (W + T/2)/N" in QUALITY_FORMULA


def test_help_is_grouped_with_start_here_first(cli) -> None:
    out = invoke(cli, "--help")
    sections = re.findall(r"^(\S[^:\n]*):$", out, re.M)
    assert sections[:2] == ["Options", "Start here"]
    assert sections[2:] == [title for title, _ in HELP_SECTIONS[1:]]  # nothing left over
    start = out[out.index("Start here:") : out.index("Watch and steer:")]
    assert re.findall(r"^  (\S+)", start, re.M) == ["init", "run", "status", "tui"]
    listed = set(re.findall(r"^  ([a-z][a-z-]*)  ", out, re.M))
    assert listed == set(cli.commands), set(cli.commands) ^ listed


def test_an_empty_note_is_refused(cli, ws) -> None:  # noqa: F811
    from orchestrator import control

    for text in ("", "   "):
        out = invoke(cli, "note", text, "-C", str(ws.root), code=2)
        assert "a note needs text" in out
    assert control.read_commands(ws.root)[0] == []


def test_progress_off_a_terminal_is_a_line_per_batch() -> None:
    log = io.StringIO()
    with StageProgress(plain=log) as bar:
        assert bar.callback is not None
        for done in (0, 4, 4, 8, 10):
            bar.callback("candidates dev-10", done, 10)
        bar.stage("judging")(10, 10)
    assert log.getvalue().splitlines() == [
        re.sub(r"\(\d+ s\)", "(0 s)", line) for line in log.getvalue().splitlines()
    ]
    lines = [re.sub(r" \(\d+ s\)$", "", line) for line in log.getvalue().splitlines()]
    assert lines == [
        "progress: candidates dev-10 0/10",
        "progress: candidates dev-10 4/10",
        "progress: candidates dev-10 8/10",
        "progress: candidates dev-10 10/10",
        "progress: judging 10/10",
    ]


def test_an_unparseable_case_shows_the_models_raw_text() -> None:
    raw = "Sure! Here are some thoughts about Paris\nmaybe go in spring"
    view = CaseView(case_id="c01", task="plan a trip", problems=["unparseable"], text=raw)
    text = case_text(view)
    assert "raw" in text and "Sure! Here are some thoughts about Paris" in text
    assert "maybe go in spring" in text
    parsed = CaseView(case_id="c02", questions=["When?"], text="1. When?")
    assert "raw" not in case_text(parsed)


def test_tables_never_break_a_word_at_80_columns() -> None:
    from orchestrator.cli.loop_cmd import summary_table

    records = [make_record("001", LONG, "discarded", 0.4, "self_critique")]
    out = rendered(summary_table(records))
    assert max(len(line) for line in out.splitlines()) <= 80
    for word in ["self_critique", "discarded", *LONG.split()]:
        assert re.search(rf"(?<!\S){re.escape(word)}(?!\S)", out), (word, out)


def test_the_run_summary_says_how_many_experiments_per_hour() -> None:
    from orchestrator.cli.loop_cmd import _pace
    from orchestrator.loop import LoopSummary

    records = [make_record(f"00{i}", "a move", "kept", 0.2, "rag") for i in range(1, 7)]
    assert _pace(LoopSummary(records, "budget", 240.0)) == " (6 experiments, 90 per hour)"
    assert _pace(LoopSummary(records[:1], "budget", 60.0)) == " (1 experiment, 60 per hour)"
    assert _pace(LoopSummary([], "stopped", 5.0)) == ""


def test_dashboard_live_page_and_tui_header_carry_the_headline(ws) -> None:  # noqa: F811
    from starlette.testclient import TestClient

    from runlog.report import render_dashboard
    from tui.views import Summary
    from tui.web.app import create_app
    from tui.widgets.status_bar import StatusBar
    from tui.workspace_source import WorkspaceSource

    ws.commit_experiment(make_record("001", "baseline", "kept", 0.38, "baseline"))
    commit_reference(ws, reference("ref001", "gold", 0.6, "gold"))
    html = render_dashboard(ws)
    page = TestClient(create_app(ws.root), base_url="http://127.0.0.1:8750").get("/").text
    for shown in (html, page):
        assert "exp001 reaches 63% of the gold" in shown
        assert "0.5 × (mean rubric − 1)/4 + 0.5 × (W + T/2)/N" in shown
    summary = WorkspaceSource(ws.root).summary()
    assert summary.closeness == "63% of gold (0.600) · W/T/L 2/5/3 vs gold"
    bar = StatusBar()
    bar.summary = summary
    assert "63% of gold (0.600)" in bar.render_text().plain
    bar.summary = Summary(workspace="w")
    assert "of gold" not in bar.render_text().plain  # nothing measured: nothing shown


def test_notes_analysis_counts_the_dimensions_the_judge_cites(cli, ws) -> None:  # noqa: F811
    from ruler.records import Verdict
    from runlog.records import OutputRow

    notes = {
        "001": ["misses the critical budget question", "generic, and misses coverage of dates"],
        "002": ["two questions fused into one", "question 3 duplicates question 1"],
    }
    for exp, rationales in notes.items():
        status = "kept" if exp == "002" else "discarded"
        ws.commit_experiment(make_record(exp, f"try {exp}", status, 0.4))
        rows = [
            OutputRow(
                case_id=f"c{i}",
                text="x",
                verdicts=[
                    Verdict(case_id=f"c{i}", judge_id="j", scores={}, outcome="L", rationale=r)
                ],
            )
            for i, r in enumerate(rationales)
        ]
        ws.outputs_path(exp).write_text("".join(r.model_dump_json() + "\n" for r in rows))
    import json

    found = {
        r["experiment"]: r
        for r in json.loads(invoke(cli, "notes-analysis", "-C", str(ws.root), "--json"))
    }
    assert found["001"]["cited"]["coverage"] == 2 and found["001"]["most"] == "coverage"
    assert found["001"]["cited"]["specificity"] == 1 and not found["001"]["best"]
    assert found["002"]["cited"]["atomicity"] == 1 and found["002"]["best"]
    assert found["002"]["cited"]["non_redundancy"] == 1 and found["002"]["cited"]["coverage"] == 0
    from tests.runlog.conftest import git

    head = git(ws, "rev-parse", "HEAD")
    table = invoke(cli, "notes-analysis", "-C", str(ws.root))
    assert "exp002 (best)" in table and re.search(r"all\W+4\W", table)
    assert git(ws, "rev-parse", "HEAD") == head and ws.references() == []  # nothing logged


def test_run_gold_judges_the_gold_against_itself(ws) -> None:  # noqa: F811
    from runlog.reference.headline import run_gold
    from tests.runlog.conftest import ParseJudge

    record = run_gold(ws, "dev-10", judge=ParseJudge())
    result = record.result
    assert record.kind == "gold" and result.gate == "dev-10" and len(result.verdicts) == 10
    assert (result.wins, result.ties, result.losses) == (0, 10, 0)  # a copy only ties
    assert result.quality == pytest.approx(0.5 * (4 - 1) / 4 + 0.5 * 0.5)
    assert [r.id for r in ws.references()] == [record.id]


def test_the_levers_table_keeps_names_whole_at_80_columns(cli) -> None:
    from levers.registry import lever_classes

    result = CliRunner(env={"COLUMNS": "80"}).invoke(cli, ["levers"], catch_exceptions=False)
    out = result.output
    assert max(len(line) for line in out.splitlines()) <= 80
    for name, info in lever_classes().items():  # a name or a class folded in two was the bug
        for word in (name, info.lever_class):
            assert re.search(rf"(?<!\S){re.escape(word)}(?!\S)", out), (word, out)
