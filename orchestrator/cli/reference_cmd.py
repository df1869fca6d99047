"""`autoresearch ceiling | ceiling-table | rejudge`: reference analyses, kept out of the run log.

`ceiling` runs the best agent (or `--agent REF`) with only the candidate model swapped and
prints the seed report's §4 table and the per-dimension "scored as candidate" table; `rejudge`
judges stored outputs again in another mode and prints the §5 table. Both commit a reference
record under the tag `ref/NNN`; main's kept line and results.tsv do not change.
"""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from orchestrator.cli import cli, workspace_option
from orchestrator.cli.progress import StageProgress
from orchestrator.cli.tables import DIMENSION_LEGEND, dimension_header, print_table
from ruler.records import DIMENSIONS
from runlog.rows import format_number
from runlog.workspace import Workspace


def ceiling_tables(rows: list[dict[str, Any]]) -> list[Table]:
    """The §4 table (candidate, where, quality, coverage, W/T/L vs gold) and the per-dimension
    "scored as candidate" table, as rich tables."""
    main = Table(
        "candidate",
        "where",
        "gate",
        "quality",
        "interval",
        "coverage",
        "vs gold (W/T/L)",
        title="Cloud ceiling: only the model changes",
    )
    dims = Table(
        "scored as candidate",
        *(dimension_header(d) for d in DIMENSIONS),
        title="Rubric means, scored as candidate",
        caption=DIMENSION_LEGEND,
    )
    for row in rows:
        name = row["label"] if row["id"] in row["label"] else f"{row['label']} [{row['id']}]"
        main.add_row(
            name,
            row["where"],
            row["gate"] + ("" if row["mode"] == "standard" else f" ({row['mode']})"),
            format_number(row["quality"]),
            f"[{format_number(row['low'])}, {format_number(row['high'])}]",
            format_number(row["coverage"], 2),
            f"{row['wins']}/{row['ties']}/{row['losses']}",
        )
        dims.add_row(name, *(format_number(row["dimensions"].get(d), 2) for d in DIMENSIONS))
    return [main, dims]


def rejudge_rich_table(title: str, mode: str, rows: list[dict[str, Any]]) -> Table:
    """The §5 table: candidate, quality before, quality after, Δ, losses before → after."""
    from runlog.reference import rejudge_labels

    before, after = rejudge_labels(mode)
    table = Table(
        "candidate",
        "gate",
        f"quality, {before}",
        f"quality, {after}",
        "Δ",
        f"loses to gold, {before} → {after}",
        "standard = logged",
        title=title,
    )
    for row in rows:
        table.add_row(
            f"{row['name']}: {row['hypothesis'][:32]}",
            row["gate"],
            format_number(row["quality_before"]),
            format_number(row["quality_after"]),
            format_number(row["delta"], signed=True),
            f"{row['losses_before']} → {row['losses_after']} of {row['cases']}",
            "yes (exact)"
            if row["reproduced"]
            else f"[red]no[/red] ({format_number(row['logged_quality'])})",
        )
    return table


def _print_ceiling_tables(ws: Workspace) -> None:
    from runlog.reference import ceiling_table

    rows = ceiling_table(ws)
    console = Console()
    if not rows:
        console.print("no experiments or ceiling records yet")
        return
    for table in ceiling_tables(rows):
        print_table(table, console)


def _refresh_dashboard(ws: Workspace) -> None:
    if ws.dashboard_path.is_file():
        from runlog.report import write_dashboard

        write_dashboard(ws)


@cli.command("ceiling")
@workspace_option
@click.option("--candidate", help="Candidate model spec, e.g. anthropic:claude-haiku-4-5.")
@click.option("--gate", default="full-30", show_default=True, help="Gate to run.")
@click.option("--agent", "agent_ref", help="Agent at this ref (exp/007, a sha); default: best.")
@click.option("--judge", help="Judge spec (default: the workspace's).")
@click.option("--table", "table_only", is_flag=True, help="Only print the tables; run nothing.")
@click.option(
    "--gold",
    is_flag=True,
    help="Judge the gold answers themselves (each against itself): the most the judge gives.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the record's view as JSON.")
def ceiling_command(
    directory: str,
    candidate: str | None,
    gate: str,
    agent_ref: str | None,
    judge: str | None,
    table_only: bool,
    gold: bool,
    as_json: bool,
) -> None:
    """Run the best agent with only its model swapped: the ceiling, a reference analysis.

    With --gold, the gold answers are judged as candidates instead: the figure `status` and
    the dashboard set the best agent against ("reaches N% of the gold")."""
    from runlog.reference import reference_view, run_ceiling
    from runlog.reference.headline import run_gold

    ws = Workspace.open(directory)
    if table_only:
        _print_ceiling_tables(ws)
        return
    if gold == bool(candidate):
        raise click.UsageError("give --candidate SPEC or --gold (or --table to print the tables)")
    with StageProgress() as bar:
        if gold:
            record = run_gold(ws, gate, judge, progress=bar.stage("gold as candidate"))
        else:
            record = run_ceiling(ws, candidate, gate, agent_ref, judge, progress=bar.callback)
    _refresh_dashboard(ws)
    if as_json:
        click.echo(json.dumps(reference_view(ws, record.id), indent=2, default=str))
        return
    result = record.result
    click.echo(
        f"{record.id}: {record.title} · quality {result.quality:.3f} "
        f"W/T/L {result.wins}/{result.ties}/{result.losses} · tag ref/{record.id[3:]}"
    )
    click.echo(record.description)
    _print_ceiling_tables(ws)


@cli.command("ceiling-table")
@workspace_option
def ceiling_table_command(directory: str) -> None:
    """The best on-device experiment beside every stored ceiling, and their rubric means."""
    _print_ceiling_tables(Workspace.open(directory))


@cli.command("rejudge")
@click.argument("experiments", nargs=-1, required=True)
@workspace_option
@click.option(
    "--mode",
    type=click.Choice(["coverage-blind", "standard"]),
    default="coverage-blind",
    show_default=True,
    help="Judge mode of the re-judge (standard: the control, reproduces the log).",
)
@click.option("--judge", help="Judge spec (default: the judge that logged each experiment).")
@click.option("--json", "as_json", is_flag=True, help="Print the record's view as JSON.")
def rejudge_command(
    experiments: tuple[str, ...], directory: str, mode: str, judge: str | None, as_json: bool
) -> None:
    """Judge the stored outputs of EXPERIMENTS again (no regeneration) and compare."""
    from runlog.reference import reference_view, rejudge

    ws = Workspace.open(directory)
    with StageProgress() as bar:
        record = rejudge(ws, list(experiments), mode, judge=judge, progress=bar.callback)  # type: ignore[arg-type]
    _refresh_dashboard(ws)
    view = reference_view(ws, record.id)
    if as_json:
        click.echo(json.dumps(view, indent=2, default=str))
        return
    title = f"{record.id}: {record.title}"
    print_table(rejudge_rich_table(title, mode, view["rejudge_table"]))


@cli.command("notes-analysis")
@workspace_option
@click.option("--json", "as_json", is_flag=True, help="One object per experiment.")
def notes_analysis_command(directory: str, as_json: bool) -> None:
    """Which rubric dimension the judge's notes cite most, per experiment and for the best
    (a reference analysis of stored verdicts: nothing is judged again or logged)."""
    from runlog.reference.notes import notes_analysis

    rows = notes_analysis(Workspace.open(directory))
    if as_json:
        click.echo(json.dumps([r.model_dump() | {"most": r.most} for r in rows], indent=2))
        return
    if not rows:
        click.echo("no judge notes stored yet (the offline judge writes them for every case)")
        return
    table = Table("exp", "notes", *(dimension_header(d) for d in DIMENSIONS), "most cited")
    totals = {d: sum(r.cited[d] for r in rows) for d in DIMENSIONS}
    for r in rows:
        name = f"exp{r.experiment}" + (" (best)" if r.best else "")
        share = [f"{r.cited[d] / r.rationales:.0%}" for d in DIMENSIONS]
        table.add_row(name, str(r.rationales), *share, r.most or "–")
    notes = sum(r.rationales for r in rows)
    overall = max(totals, key=lambda d: totals[d])
    table.add_row("all", str(notes), *(f"{totals[d] / notes:.0%}" for d in DIMENSIONS), overall)
    table.caption = "share of the judge's notes that cite each dimension"
    print_table(table)
