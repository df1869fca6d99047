"""`autoresearch ruler show|verify|sanity|calibrate|build|freeze` and `autoresearch judge`."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from models import get_model
from orchestrator.cli import cli, workspace_option
from orchestrator.cli.progress import StageProgress
from orchestrator.cli.tables import print_table
from ruler.build import build_ruler
from ruler.build_feature import build_feature_ruler
from ruler.calibrate import calibrate, save_calibration
from ruler.contract import breach
from ruler.judges import get_judge
from ruler.loader import DEFAULT_RULER, TRAINING_POOL, load_ruler
from ruler.lock import write_lock
from ruler.plan import Plan, parse_plan
from ruler.plugins import render_answer
from ruler.records import Case
from ruler.sanity import run_sanity
from ruler.store import (
    WORKSPACE_STORE,
    add_generic_prompts,
    import_folder,
    register_store,
    user_store,
)

MODE = click.Choice(["standard", "coverage-blind"])


def judge_run_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options of a command that runs a judge over a ruler's cases (sanity, calibrate)."""
    for option in reversed(
        (
            click.option("--judge", "judge_spec", default="embedding", show_default=True),
            click.option("--ruler", "ruler_name", default=DEFAULT_RULER, show_default=True),
            click.option("--mode", type=MODE, default="standard", show_default=True),
            click.option("--gate", default=None, help="Only this gate's cases (default: all)."),
            click.option("--json", "as_json", is_flag=True),
        )
    ):
        command = option(command)
    return command


@cli.group()
def ruler() -> None:
    """The frozen ruler: show it, verify its lock, check a judge, build and freeze new ones;
    import a feature folder as a ruler."""
    register_workspace_store()


def register_workspace_store(directory: str = ".") -> None:
    """Inside a workspace, its imported rulers are found by name too."""
    from runlog.settings import WorkspaceError, find_root

    with contextlib.suppress(WorkspaceError):
        register_store(find_root(Path(directory)) / WORKSPACE_STORE)


@ruler.command("show")
@click.argument("name", default=DEFAULT_RULER)
@click.option(
    "--cases", "show_cases", is_flag=True, help="Every case's splits, task, critical unknown."
)
def ruler_show(name: str, show_cases: bool) -> None:
    """Cases, gates, rubric and lock of ruler NAME (a shipped name or a directory)."""
    r = load_ruler(name)
    table = Table("ruler", r.name, show_header=True)
    table.add_row("path", str(r.path))
    table.add_row("cases", str(len(r.cases)))
    for gate, ids in r.splits.items():
        table.add_row(f"gate {gate}", f"{len(ids)} cases")
    table.add_row("dimensions", ", ".join(r.rubric.dimensions))
    table.add_row("lock hash", r.lock_hash)
    pool = r.path / TRAINING_POOL
    table.add_row("training pool", f"{len(r.training_pool())} cases" if pool.is_file() else "none")
    print_table(table)
    if show_cases:
        cases = Table("id", "splits", "task", "critical unknown")
        for case in r.cases.values():
            cases.add_row(case.id, ", ".join(r.splits_of(case.id)) or "–", case.task, case.critical)
        print_table(cases)


@ruler.command("verify")
@click.argument("name", default=DEFAULT_RULER)
def ruler_verify(name: str) -> None:
    """Check every locked file of ruler NAME byte for byte (exit 2 naming a changed file)."""
    r = load_ruler(name)
    click.echo(f"ok: ruler {r.name} matches its lock {r.verify()}")


@ruler.command("sanity")
@judge_run_options
def ruler_sanity(
    judge_spec: str, ruler_name: str, mode: str, gate: str | None, as_json: bool
) -> None:
    """Degraded gold plans must score lower than the gold: pass rate per perturbation."""
    r = load_ruler(ruler_name)
    r.verify()
    cases = r.gate_cases(gate) if gate else list(r.cases.values())
    judge = get_judge(judge_spec, ruler=r)
    report = run_sanity(judge, cases, mode, feature=r.feature, degraded=r.degraded)  # type: ignore[arg-type]
    if as_json:
        click.echo(report.model_dump_json(indent=2))
        return
    title = f"judge sanity: {report.judge_id}, {mode}, {len(cases)} cases, {report.seconds:.1f}s"
    table = Table(title=title)
    table.add_column("perturbation", no_wrap=True)
    table.add_column("dimension", no_wrap=True)
    for header in ("pass", "dim lower", "pair L/T", "failures"):
        table.add_column(header)
    for res in report.results:
        table.add_row(
            res.name,
            res.dimension,
            f"{res.rate:.0%}",
            f"{res.dimension_lower}/{res.total}",
            f"{res.pairwise_not_won}/{res.total}",
            ", ".join(res.failures) or "-",
        )
    print_table(table)
    if report.lower_rates:
        print_lower_rates(report.lower_rates)


def print_lower_rates(rates: dict[str, dict[str, float]]) -> None:
    """Per variant kind, how often each dimension scored lower than the gold's."""
    dims = list(next(iter(rates.values())))
    table = Table("variant", *dims, title="share of cases where the dimension scored below gold")
    for name, per_dim in rates.items():
        table.add_row(name, *(f"{per_dim.get(d, 0.0):.0%}" for d in dims))
    print_table(table)


@ruler.command("calibrate")
@judge_run_options
def ruler_calibrate(
    judge_spec: str, ruler_name: str, mode: str, gate: str | None, as_json: bool
) -> None:
    """Measure and store how far a judge can be trusted (judges gold + sanity variants twice)."""
    r = load_ruler(ruler_name)
    ruler_hash = r.verify()
    cases = r.gate_cases(gate) if gate else list(r.cases.values())
    judge = get_judge(judge_spec, ruler=r)
    result = calibrate(
        judge,
        cases,
        mode,  # type: ignore[arg-type]
        ruler=r.name,
        ruler_hash=ruler_hash,
        feature=r.feature,
        degraded=r.degraded,
    )
    path = save_calibration(result)
    if as_json:
        click.echo(result.model_dump_json(indent=2))
        return
    table = Table(title=f"judge calibration: {result.judge_id}, {mode}, {len(cases)} cases")
    table.add_column("figure", no_wrap=True)
    table.add_column("value")
    table.add_row("position consistency", f"{result.position_consistency:.1%}")
    table.add_row("A/A flip rate", f"{result.aa_flip_rate:.1%}")
    table.add_row("length bias (r)", f"{result.length_bias:+.2f}")
    table.add_row("sanity pass rate", f"{result.sanity_pass_rate:.1%}")
    for name, rate in result.sanity.items():
        table.add_row(f"  {name}", f"{rate:.0%}")
    Console().print(table)
    click.echo(f"stored {path}")


@ruler.command("build")
@click.option(
    "--tasks",
    "tasks_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="Planner: one task a line, or JSONL with 'task' (and 'id'). With --feature: JSONL with "
    "'input' (and 'id', and your own 'gold', kept as is), or one input a line.",
)
@click.option(
    "--feature",
    "feature_ref",
    default=None,
    help="A feature folder (its feature.toml) or an imported feature's name: gold answers in "
    "its JSON Schema, written as a folder for `ruler import`. Without it: the planner.",
)
@click.option(
    "--gold-model",
    "gold_model",
    default=None,
    help="e.g. anthropic:claude-sonnet-4-6 (with --feature, only needed for lines without gold)",
)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option(
    "--template",
    default=DEFAULT_RULER,
    show_default=True,
    help="Planner: the ruler whose rubric and prompts to copy.",
)
def ruler_build(
    tasks_file: Path, feature_ref: str | None, gold_model: str | None, out: Path, template: str
) -> None:
    """Write a new ruler directory with gold answers from GOLD_MODEL (or your own gold, with
    --feature); then `ruler import` it (a feature) or `ruler freeze` it (the planner)."""
    if feature_ref is not None and feature_ref != DEFAULT_RULER:
        build_for_feature(feature_ref, tasks_file, gold_model, out)
        return
    if gold_model is None:
        raise click.UsageError("the planner's gold needs --gold-model (e.g. anthropic:...)")
    model = get_model(gold_model)
    with StageProgress() as bar:
        cases = build_ruler(tasks_file, model, out, template, progress=bar.stage("gold plans"))
    click.echo(
        f"wrote {len(cases)} cases to {out}; review them, then: autoresearch ruler freeze {out}"
    )


def build_for_feature(
    feature_ref: str, tasks_file: Path, gold_model: str | None, out: Path
) -> None:
    """`ruler build --feature`: every failed input named with its line; exit 1 if any."""
    model = get_model(gold_model) if gold_model else None
    with StageProgress() as bar:
        report = build_feature_ruler(
            feature_ref, tasks_file, model, out, progress=bar.stage("gold answers")
        )
    click.echo(
        f"wrote {report.written} cases to {out} ({report.own_gold} with your gold, "
        f"{report.asked} asked of {gold_model or 'no model'})"
    )
    for failure in report.failures:
        click.echo(f"  failed: {failure}", err=True)
    if report.failures:
        click.echo(
            f"{len(report.failures)} inputs got no valid gold and are not in {out / 'cases.jsonl'};"
            " add their gold by hand or drop them",
            err=True,
        )
    click.echo(f"review them, then: autoresearch ruler import {out}")
    if report.failures:
        raise SystemExit(1)


@ruler.command("import")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--name", default=None, help="Store it under NAME (default: feature.toml's name).")
@click.option(
    "--user",
    is_flag=True,
    help="Into the user-level store (default: the workspace's, when run inside one).",
)
@workspace_option
def ruler_import(folder: Path, name: str | None, user: bool, directory: str) -> None:
    """Validate a feature folder, copy it into a ruler store and hash-lock it (no cloud model:
    the folder's gold is imported as is). Then: autoresearch init DIR --ruler NAME."""
    from runlog.settings import WorkspaceError, find_root

    store = user_store()
    if not user:
        with contextlib.suppress(WorkspaceError):  # outside a workspace: the user-level store
            store = find_root(Path(directory)) / WORKSPACE_STORE
    done = import_folder(folder, store, name)
    gates = ", ".join(f"{gate} ({n} cases)" for gate, n in done.gates.items())
    verb = "already imported" if done.unchanged else "imported"
    click.echo(f"{verb} {done.name}: {done.cases} cases, pool {done.pool}, gates {gates}")
    click.echo(f"  {done.path}  lock {done.hash}")
    click.echo(f"next: autoresearch init DIR --ruler {done.name}")


@ruler.command("freeze")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def ruler_freeze(directory: Path) -> None:
    """Hash-lock a ruler directory (writes DIRECTORY/ruler.lock)."""
    load_ruler(directory)  # refuse to freeze something that does not load
    if add_generic_prompts(directory):
        click.echo(f"added the LLM judge's generic prompts: {directory / 'prompts'}")
    click.echo(f"froze {directory}: {write_lock(directory)}")


def _plan_file(path: Path) -> Plan:
    text = path.read_text(encoding="utf-8")
    return parse_plan(text).plan


def _gold_file(path: Path, r) -> Plan | dict | list:
    """A gold answer from a file: a plan (JSON or model text) for the planner, else the
    feature's JSON answer, checked against its contract."""
    if r.is_planner:
        return _plan_file(path)
    text = path.read_text(encoding="utf-8")
    value, broken = breach(text, r.feature.output_schema)
    if broken:
        raise click.BadParameter(f"{path}: gold breaks the {r.name} contract ({broken})")
    return value


def adhoc_case(r, case_id: str | None, task: str | None, gold_file: Path | None, critical) -> Case:
    """The case to judge: a ruler case by id, or a task (input) with a gold answer file."""
    if case_id is not None:
        if case_id not in r.cases:
            raise click.BadParameter(f"no case {case_id!r} in ruler {r.name}", param_hint="--case")
        return r.cases[case_id]
    if task is None or gold_file is None:
        raise click.UsageError("give --case ID, or both --task and --gold")
    gold = _gold_file(gold_file, r)
    return Case(id="adhoc", task=task, gold=gold, critical_question=critical)


@cli.command("judge")
@click.option("--ruler", "ruler_name", default=DEFAULT_RULER, show_default=True)
@click.option("--case", "case_id", default=None, help="A case of the ruler: its input and gold.")
@click.option("--task", default=None, help="The input (with --gold, instead of --case).")
@click.option(
    "--gold",
    "gold_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The gold answer: the feature's JSON ({title, questions} JSON or text for the planner).",
)
@click.option(
    "--candidate",
    "candidate_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The answer to judge, as the model wrote it.",
)
@click.option(
    "--critical-question",
    type=click.IntRange(min=0),
    default=None,
    help="Planner: 0-based index of the gold's critical question.",
)
@click.option("--judge", "judge_spec", default="embedding", show_default=True)
@click.option("--mode", type=MODE, default="standard", show_default=True)
@click.option("--json", "as_json", is_flag=True)
def judge_cmd(
    ruler_name: str,
    case_id: str | None,
    task: str | None,
    gold_file: Path | None,
    candidate_file: Path,
    critical_question: int | None,
    judge_spec: str,
    mode: str,
    as_json: bool,
) -> None:
    """Judge one candidate answer against one gold answer of any feature's ruler."""
    register_workspace_store()
    r = load_ruler(ruler_name)
    case = adhoc_case(r, case_id, task, gold_file, critical_question)
    candidate = candidate_file.read_text(encoding="utf-8")
    verdict = get_judge(judge_spec, ruler=r).judge(case, candidate, mode)  # type: ignore[arg-type]
    if as_json:
        click.echo(verdict.model_dump_json(indent=2))
        return
    table = Table(
        "dimension", "score", title=f"{verdict.judge_id} ({mode}): {verdict.outcome} vs gold"
    )
    for dim, score in verdict.scores.items():
        table.add_row(dim, str(score))
    console = Console()
    print_table(table, console)
    if not r.is_planner:  # the answer as the feature shows it (its plugin's renderer, or JSON)
        answer, broken = breach(candidate, r.feature.output_schema, r.feature.name)
        if not broken:
            console.print(f"answer: {render_answer(r.feature.name, answer)}", markup=False)
    console.print(verdict.rationale, markup=False)
