"""`autoresearch eval --compare REF [--ref OTHER]`: two agents paired on one gate."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from orchestrator.cli.progress import StageProgress
from orchestrator.cli.render_cases import comparison_text, echo_cases
from runlog.cases import eval_cases
from runlog.check import CHECK_FAILS, CHECK_HOLDS
from runlog.compare import compare_agents, comparison_view
from runlog.workspace import Workspace


def keep_policy_view(ws: Workspace, paired) -> dict[str, Any]:
    """What the loop's keep policy (`[keep]`, `ruler.keep_policy.decide`) would say if
    this gate were the decisive one."""
    from ruler.keep_policy import decide

    keep, result = ws.config.keep, paired.other.result
    status, why = decide(
        result,
        result,
        baseline=False,
        policy=keep.policy,
        min_delta=keep.min_delta,
        rule=keep.screen_rule(),
    )
    return {"policy": keep.policy, "min_delta": keep.min_delta, "status": status, "reason": why}


def run_compare(
    directory: str,
    reference: str,
    options: dict[str, Any],
    as_json: bool,
    show_cases: bool,
    check: str | None,
) -> None:
    """Evaluate REF and the other agent, print the pairing; exit as `--check` says."""
    ws = Workspace.open(directory, repair=False)
    with StageProgress() as bar:
        paired = compare_agents(
            ws,
            reference,
            options["ref"],
            gate=options["gate"],
            judge=options["judge"],
            mode=options["mode"],
            model=options["model"],
            progress=bar.callback,
        )
    view = comparison_view(paired)
    view["keep_policy"] = keep_policy_view(ws, paired)
    holds = paired.other.check(check) if check is not None else None
    ruler = ws.config.ruler.name
    if as_json:
        if show_cases:
            view["reference"]["cases"] = [
                c.model_dump() for c in eval_cases(paired.reference, ruler)
            ]
            view["other"]["cases"] = [c.model_dump() for c in eval_cases(paired.other, ruler)]
        view.update(check=check, holds=holds)
        click.echo(json.dumps(view, indent=2))
    else:
        click.echo(comparison_text(view))
        if show_cases:
            click.echo(f"\ncases of {view['other']['agent']}:")
            echo_cases(eval_cases(paired.other, ruler))
        if check is not None:
            click.echo(f"check {check!r}: {'holds' if holds else 'fails'}")
    if check is not None:
        sys.exit(CHECK_HOLDS if holds else CHECK_FAILS)
