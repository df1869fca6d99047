"""HTML for the live page: the whole page once, then fragments (a card, the chart, the summary)
pushed as experiments arrive. Data comes from `runlog` (the static dashboard's chart and
lever-class table, the log rows, the agent diff); only the card adds the live page's extras:
the diff against the parent, the keep/discard reason and the per-case W/T/L strip.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from runlog.gitstore import experiment_commits
from runlog.records import ExperimentRecord
from runlog.report import STATUS_COLORS, lever_class_table, quality_chart
from runlog.views import agent_diff, experiment_row
from runlog.workspace import Workspace

ENV = Environment(
    loader=PackageLoader("tui.web", "templates"), autoescape=select_autoescape(["html", "j2"])
)
ENV.filters["q"] = lambda v: "–" if v is None else f"{v:.3f}"
ENV.filters["d"] = lambda v: "–" if v is None else f"{v:.2f}"


def tile(trace: list[dict[str, Any]]) -> Markup:
    """The experiment's process diagram as inline SVG (empty when it has no trace)."""
    from levers.diagram import svg_tile
    from levers.trace import TraceNode

    if not trace:
        return Markup("")
    return Markup(svg_tile([TraceNode.model_validate(n) for n in trace]))


def outcome_strip(record: ExperimentRecord) -> list[dict[str, Any]]:
    """Per case of the deciding gate: its W/T/L from the candidate's side and its Δ vs best."""
    result = record.result
    if result is None:
        return []
    deltas = result.comparison.per_case_delta if result.comparison else {}
    return [
        {"case": v.case_id, "outcome": v.outcome, "delta": deltas.get(v.case_id)}
        for v in result.verdicts
    ]


def reason(record: ExperimentRecord) -> str:
    """Why the experiment was kept, discarded or failed, as the loop recorded it."""
    return record.failure or record.decision or ""


def card_context(ws: Workspace, record: ExperimentRecord, commit: str | None) -> dict[str, Any]:
    return {
        "record": record,
        "row": experiment_row(record, commit, on_main=record.status == "kept"),
        "tile": tile(record.trace),
        "diff": agent_diff(ws, commit) if commit else "",
        "reason": reason(record),
        "strip": outcome_strip(record),
    }


def render_card(ws: Workspace, exp: str) -> str:
    """One experiment's card (the fragment the page inserts when the experiment arrives)."""
    commit = experiment_commits(ws).get(exp)
    context = card_context(ws, ws.record(exp), commit)
    return ENV.get_template("card.html.j2").render(card=context, colors=STATUS_COLORS)


def summary(records: list[ExperimentRecord]) -> dict[str, Any]:
    kept = [r for r in records if r.status == "kept" and r.result]
    best = max(kept, key=lambda r: r.result.quality, default=None)  # type: ignore[union-attr]
    return {
        "experiments": len(records),
        "counts": {s: sum(r.status == s for r in records) for s in STATUS_COLORS},
        "best": best,
        "cost_usd": sum(r.cost_usd for r in records),
    }


def render_overview(ws: Workspace) -> dict[str, str]:
    """The parts every new experiment changes: the summary, the lever classes, the chart."""
    records = ws.records()
    context = {
        "summary": summary(records),
        "lever_classes": lever_class_table(records),
        "colors": STATUS_COLORS,
    }
    return {
        "summary": ENV.get_template("summary.html.j2").render(context),
        "chart": quality_chart(records),
    }


def render_page(ws: Workspace, cursor: str, control: bool) -> str:
    """The whole page as it stands; `cursor` tells its event stream where to start."""
    commits = experiment_commits(ws)
    cards = [
        ENV.get_template("card.html.j2").render(
            card=card_context(ws, r, commits.get(r.id)), colors=STATUS_COLORS
        )
        for r in ws.records()
    ]
    overview = render_overview(ws)
    return ENV.get_template("page.html.j2").render(
        root=str(ws.root),
        candidate=ws.config.candidate.model,
        judge=f"{ws.config.judge.spec} ({ws.config.judge.mode})",
        summary=Markup(overview["summary"]),
        chart=Markup(overview["chart"]),
        cards=[Markup(c) for c in reversed(cards)],
        cursor=cursor,
        control=control,
        colors=STATUS_COLORS,
    )
