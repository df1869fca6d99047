"""Every result table of the command line fits 80 columns without cutting a header."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from rich.console import Console

from orchestrator.cli import load_commands
from orchestrator.cli.loop_cmd import summary_table
from orchestrator.cli.reference_cmd import ceiling_tables, rejudge_rich_table
from orchestrator.cli.tables import DIMENSION_HEADERS, fit
from runlog import evaluate
from tests.runlog.conftest import ParseJudge, make_record, ruler_name, ws  # noqa: F401

WIDTH = 80
LONG = "Spelling out the rubric (one ask each, specific, no overlap) helps the small model a lot"
DIMS = list(DIMENSION_HEADERS.values())


def assert_fits(output: str, headers: list[str]) -> None:
    """No line wider than 80, no ellipsis, and every word of every header printed whole."""
    lines = output.splitlines()
    assert lines and max(len(line) for line in lines) <= WIDTH, output
    assert "…" not in output, output
    for header in headers:
        for word in header.split():
            assert re.search(rf"(?<!\S){re.escape(word)}(?!\S)", output), (word, output)


def rendered(table) -> str:
    console = Console(width=WIDTH, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(fit(table, WIDTH))
    return console.export_text()


@pytest.fixture
def cli(monkeypatch):
    monkeypatch.setattr(evaluate, "resolve_judge", lambda spec, ruler=None: ParseJudge())
    return load_commands()


def invoke(cli, *args: str) -> str:
    result = CliRunner(env={"COLUMNS": str(WIDTH)}).invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_eval_table_abbreviates_dimensions_with_a_legend(cli, ws) -> None:  # noqa: F811
    out = invoke(cli, "eval", "-C", str(ws.root), "--gate", "dev-10")
    assert_fits(out, ["quality", "interval", *DIMS, "W/T/L"])
    assert "nonred = non_redundancy" in out


def test_log_and_run_summary_tables(cli, ws) -> None:  # noqa: F811
    for i, klass in enumerate(["baseline", "self_critique", "multi_call"], 1):
        ws.commit_experiment(make_record(f"{i:03d}", LONG, "discarded", 0.4, klass))
    out = invoke(cli, "log", "-C", str(ws.root))
    assert_fits(out, ["id", "commit", "status", "class", "gate", "quality", "W/T/L", "hypothesis"])
    records = [make_record("001", LONG, "discarded", 0.4, "self_critique")]
    headers = ["exp", "status", "lever class", "gate", "quality", "95% interval", "W/T/L"]
    assert_fits(rendered(summary_table(records)), [*headers, "hypothesis"])


def test_levers_models_and_ruler_tables(cli, ruler_name) -> None:  # noqa: F811
    assert_fits(invoke(cli, "levers"), ["name", "class", "source", "params", "description"])
    models = invoke(cli, "models", "list")
    assert_fits(models, ["spec", "backend", "available", "description / how to enable"])
    shown = invoke(cli, "ruler", "show", ruler_name, "--cases")
    assert_fits(shown, ["id", "splits", "task", "critical unknown", "lock hash"])


def test_reference_tables() -> None:
    row = {
        "id": "ref001",
        "label": "anthropic:claude-haiku-4-5 as candidate",
        "where": "cloud",
        "gate": "full-30",
        "mode": "coverage-blind",
        "quality": 0.61,
        "low": 0.55,
        "high": 0.66,
        "coverage": 3.9,
        "wins": 10,
        "ties": 12,
        "losses": 8,
        "dimensions": dict.fromkeys(DIMENSION_HEADERS, 4.0),
    }
    main, dims = ceiling_tables([row])
    headers = ["candidate", "where", "gate", "quality", "interval", "coverage", "vs gold (W/T/L)"]
    assert_fits(rendered(main), headers)
    assert_fits(rendered(dims), ["scored as candidate", *DIMS])
    rejudge = {
        "name": "exp012",
        "hypothesis": LONG,
        "gate": "full-30",
        "quality_before": 0.41,
        "quality_after": 0.44,
        "delta": 0.03,
        "losses_before": 20,
        "losses_after": 17,
        "cases": 30,
        "reproduced": True,
        "logged_quality": 0.41,
    }
    table = rejudge_rich_table("Re-judged coverage-blind", "coverage-blind", [rejudge])
    headers = ["candidate", "gate", "quality, 5-dim", "quality, coverage-blind", "Δ"]
    assert_fits(rendered(table), [*headers, "loses to gold, 5-dim → coverage-blind"])


def test_fit_leaves_a_narrow_table_alone_and_json_is_untouched(cli) -> None:
    from rich.table import Table

    table = Table("a", "b")
    table.add_row("1", "2")
    assert fit(table, WIDTH).show_edge  # fits already: the border stays
    rows = json.loads(invoke(cli, "levers", "--json"))
    assert rows[0]["name"] == "prompt"
