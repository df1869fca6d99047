"""Text for `show NNN --cases`, `eval --cases` and `eval --compare`, wrapped to 80 columns."""

from __future__ import annotations

import textwrap
from typing import Any

import click

from runlog.cases import CaseView

WIDTH = 80
LABEL = 11  # "  problems " and friends


def _field(label: str, text: str) -> str:
    """`  label     text`, the text wrapped under itself."""
    head = f"  {label:<{LABEL - 2}}"
    return textwrap.fill(
        text, WIDTH, initial_indent=head, subsequent_indent=" " * LABEL, break_long_words=True
    )


RAW_LINES = 12  # of an unparseable answer's raw text, shown as the model wrote it


def raw_text(text: str) -> list[str]:
    """The model's own text, line by line under `raw`, cut at `RAW_LINES` lines."""
    lines = text.splitlines() or ["(empty)"]
    shown = [
        _field("raw" if i == 0 else "", line or " ") for i, line in enumerate(lines[:RAW_LINES])
    ]
    if len(lines) > RAW_LINES:
        shown.append(_field("", f"… {len(lines) - RAW_LINES} more lines (--json has all)"))
    return shown


def case_text(view: CaseView) -> str:
    """One case: header, plan, problems, scores and the judge's rationale."""
    quality = "" if view.quality is None else f"  quality {view.quality:.3f}"
    splits = f" [{', '.join(view.splits)}]" if view.splits else ""
    head = f"{view.case_id}{splits}  {view.outcome or '–'}{quality}"
    lines = [head, _field("task", view.task or "(unknown)")]
    if view.failed:
        lines.append(_field("failed", view.error or "the pipeline raised"))
    lines.append(_field("title", view.title or "(none)"))
    for i, question in enumerate(view.questions, 1):
        lines.append(_field(f"{i:>2}.", question))
    problems = ", ".join(view.problems) or "none"
    lines.append(_field("problems", f"{problems} (parsed from {view.parsed_from})"))
    if "unparseable" in view.problems or (not view.questions and view.text):
        lines += raw_text(view.text)
    if view.scores:
        scores = " · ".join(f"{d} {s}" for d, s in view.scores.items())
        lines.append(_field("scores", scores))
    for i, note in enumerate(view.rationale):
        lines.append(_field("judge" if i == 0 else "", note))
    return "\n".join(lines)


def echo_cases(views: list[CaseView]) -> None:
    """Every case, one blank line apart."""
    if not views:
        click.echo("no per-case outputs recorded (a failed experiment has none)")
        return
    click.echo("\n\n".join(case_text(view) for view in views))


def _side_line(side: dict[str, Any]) -> str:
    interval = side["interval"]
    return (
        f"{side['agent']:<14} quality {side['quality']:.3f} "
        f"[{interval['low']:.3f}, {interval['high']:.3f}]  "
        f"W/T/L vs gold {side['wins']}/{side['ties']}/{side['losses']}"
    )


def comparison_text(view: dict[str, Any]) -> str:
    """Both qualities, the paired Δ with its bootstrap interval, per-case W/T/L, sign test."""
    interval = view["delta_interval"]
    level = round(interval.get("level", 0.95) * 100)
    per_case = f"{view['paired_wins']}/{view['paired_ties']}/{view['paired_losses']}"
    keep = view.get("keep_policy")
    verdict = (
        [
            textwrap.fill(
                f"keep policy, were this gate decisive: {keep['status']} ({keep['reason']})", WIDTH
            )
        ]
        if keep
        else []
    )
    return "\n".join(
        [
            f"{view['gate']} ({view['mode']}, {view['judge']})",
            "reference " + _side_line(view["reference"]),
            "other     " + _side_line(view["other"]),
            f"paired Δ {view['delta']:+.3f}  {level}% bootstrap "
            f"[{interval['low']:+.3f}, {interval['high']:+.3f}]",
            f"per case: other better/equal/worse {per_case} · "
            f"sign test p={view['sign_test_p']:.3f}",
            *verdict,
        ]
    )
