"""`autoresearch train sft|orpo` (the manual training track) and `autoresearch adapters`."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.table import Column, Table

from levers.adapters import (
    AdapterRecord,
    adapter_store,
    add_adapter,
    list_adapters,
    load_record,
    resolve_ref,
)
from levers.training.estimate import describe_estimate, format_duration
from levers.training.trainers import TrainConfig
from orchestrator.cli import cli, workspace_option
from orchestrator.cli.progress import StageProgress
from orchestrator.cli.tables import print_table
from runlog.rows import MISSING, format_number


def _root(directory: str) -> Path:
    """The workspace root at or above DIRECTORY, else DIRECTORY itself."""
    try:
        from runlog.settings import find_root

        return find_root(Path(directory))
    except Exception:  # not inside a workspace: train into the folder as given
        return Path(directory).resolve()


POSITIVE = click.FloatRange(min=0, min_open=True)
AT_LEAST_ONE = click.IntRange(min=1)


@cli.command()
@click.argument("kind", type=click.Choice(["sft", "orpo"]))
@click.option(
    "--pairs",
    type=click.Choice(["style", "on-policy"]),
    default="style",
    show_default=True,
    help="ORPO rejected side: style-degraded gold or agent drafts.",
)
@click.option("--epochs", type=POSITIVE, default=1.0, show_default=True)
@click.option("--steps", type=AT_LEAST_ONE, help="Optimizer steps (overrides --epochs).")
@click.option("--lr", "learning_rate", type=POSITIVE, default=2e-4, show_default=True)
@click.option("--rank", type=AT_LEAST_ONE, default=8, show_default=True, help="LoRA rank.")
@click.option("--batch-size", type=AT_LEAST_ONE, default=4, show_default=True)
@click.option(
    "--max-length", type=AT_LEAST_ONE, default=384, show_default=True, help="Tokens per row."
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--model", "base_model", help="Base model spec (default: the agent's model).")
@click.option("--pool-size", type=AT_LEAST_ONE, help="Use only the first N training-pool cases.")
@workspace_option
def train(
    kind: str,
    pairs: str,
    epochs: float,
    steps: int | None,
    learning_rate: float,
    rank: int,
    batch_size: int,
    max_length: int,
    seed: int,
    base_model: str | None,
    pool_size: int | None,
    directory: str,
) -> None:
    """Train a LoRA adapter (SFT, or ORPO preference pairs) on the training pool."""
    from levers.training.track import agent_for, run_training
    from runlog.feature_spec import workspace_feature

    root = _root(directory)
    config = TrainConfig(
        epochs=epochs,
        steps=steps,
        learning_rate=learning_rate,
        rank=rank,
        alpha=2 * rank,
        batch_size=batch_size,
        max_length=max_length,
        seed=seed,
    )
    agent = agent_for(root)
    model = base_model or agent.model
    rows = pool_size or 160
    click.echo(f"estimate: {describe_estimate(kind, rows, config, model)}")  # type: ignore[arg-type]
    with StageProgress(transient=False) as bar:

        def on_step(step: int, total: int, loss: float) -> None:
            bar.update(f"{kind} training", step, total, note=f"loss {loss:.3f}")

        record = run_training(
            kind,
            workspace=root,
            config=config,
            pairs=pairs,
            base_model=model,  # type: ignore[arg-type]
            agent=agent,
            pool_size=pool_size,
            on_draft=bar.stage("drafts"),
            on_step=on_step,
            feature=workspace_feature(root),
        )
    _print_summary(record, resolve_ref(adapter_store(root), record.hash))


def _print_summary(record: AdapterRecord, path: Path) -> None:
    curve = record.loss_curve
    loss = f"loss {curve[0][1]:.3f} -> {curve[-1][1]:.3f}" if curve else "no loss logged"
    click.echo(
        f"adapter {record.hash[:12]} ({record.kind}, {record.base_model}): {record.steps} "
        f"steps in {format_duration(record.seconds)}, {loss}"
    )
    click.echo(f"stored at {path}")
    click.echo(f'use it: [[levers]] name = "adapter", params.adapter = "{record.hash[:12]}"')


@cli.group()
def adapters() -> None:
    """List, show and add adapters in the workspace's store."""


@adapters.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@workspace_option
def adapters_list(as_json: bool, directory: str) -> None:
    """Every stored adapter, oldest first."""
    records = list_adapters(adapter_store(_root(directory)))
    if as_json:
        click.echo(json.dumps([r.model_dump() for r in records], indent=2))
        return
    if not records:
        click.echo("no adapters stored yet (autoresearch train sft)")
        return
    table = Table("base model", "origin", "steps", "loss", "cases", "created")
    table.columns.insert(0, Column("hash", no_wrap=True, min_width=12))
    table.columns.insert(1, Column("kind", no_wrap=True))
    for r in records:
        final = format_number(r.loss_curve[-1][1] if r.loss_curve else None)
        rows = len(r.data_recipe.get("case_ids", [])) or MISSING
        origin = r.origin + (f" ({r.request})" if r.request else "")
        table.add_row(
            r.hash[:12],
            r.kind,
            r.base_model,
            origin,
            str(r.steps),
            final,
            str(rows),
            r.created[:16].replace("T", " "),
        )
    print_table(table)


@adapters.command("show")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print the whole meta.json.")
@workspace_option
def adapters_show(ref: str, as_json: bool, directory: str) -> None:
    """One adapter's record: training config, data recipe, loss curve."""
    root = adapter_store(_root(directory))
    record = load_record(root, ref)
    if as_json:
        click.echo(record.model_dump_json(indent=2))
        return
    click.echo(f"hash        {record.hash}")
    click.echo(f"path        {resolve_ref(root, ref)}")
    click.echo(
        f"kind        {record.kind}   base model {record.base_model}   "
        f"origin {record.origin}" + (f"   request {record.request}" if record.request else "")
    )
    if record.origin == "trained":
        cfg = record.training_config
        click.echo(
            f"training    {record.steps} steps, batch {cfg.get('batch_size')}, "
            f"lr {cfg.get('learning_rate')}, rank {cfg.get('rank')}; "
            f"{format_duration(record.seconds)} ({record.seconds_per_step} s/step), "
            f"peak RSS {record.peak_rss_mb:.0f} MB"
        )
        recipe = record.data_recipe
        click.echo(
            f"data        {recipe.get('builder')} over {len(recipe.get('case_ids', []))} "
            f"pool cases, sha256 {record.data_hash[:12]}; prompt: {recipe.get('prompt_source')}"
        )
        curve = " ".join(f"{s}:{loss:.3f}" for s, loss in record.loss_curve)
        click.echo(f"loss        {curve}")
    else:
        click.echo(f"added from  {record.source_path}")


@adapters.command("add")
@click.argument("path", type=click.Path(exists=True, file_okay=False))
@click.option("--kind", type=click.Choice(["sft", "orpo"]), default="sft", show_default=True)
@click.option(
    "--base-model",
    default="apple:system",
    show_default=True,
    help="The model the adapter was trained for.",
)
@click.option("--request", "request", help="The approved training request it answers.")
@workspace_option
def adapters_add(
    path: str, kind: str, base_model: str, request: str | None, directory: str
) -> None:
    """Register an adapter trained elsewhere (e.g. Apple's adapter toolkit) in the store."""
    root = adapter_store(_root(directory))
    record = add_adapter(
        root,
        Path(path),
        kind=kind,
        base_model=base_model,  # type: ignore[arg-type]
        request=request,
    )
    click.echo(
        f"adapter {record.hash[:12]} ({record.kind}, {record.base_model}) stored at "
        f"{resolve_ref(root, record.hash)}"
    )
    if base_model.startswith("apple:"):
        click.echo(
            "note: the apple backend's Python SDK cannot load .fmadapter files, so the "
            "adapter is recorded here for the run log; use it from Swift (an adapter "
            "lever on apple:* stops with a clear error)"
        )
