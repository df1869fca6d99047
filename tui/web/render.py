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
from runlog.reference.headline import QUALITY_FORMULA, headline
from runlog.report import STATUS_COLORS, lever_class_table, quality_chart
from runlog.settings import WorkspaceError
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


def read_records(ws: Workspace) -> tuple[list[ExperimentRecord], dict[str, str]]:
    """The readable records in id order, and for each unreadable one why (a garbage or
    half-written file must cost its own card, never the page)."""
    records, broken = [], {}
    for exp in ws.record_ids():
        try:
            records.append(ws.record(exp))
        except WorkspaceError as exc:
            broken[exp] = str(exc)
    return records, broken


def placeholder_card(exp: str, why: str) -> str:
    """The card of a record that cannot be read: its id and the reason, nothing else."""
    return ENV.get_template("broken_card.html.j2").render(exp=exp, why=why)


def render_card(ws: Workspace, exp: str) -> str:
    """One experiment's card (the fragment the page inserts when the experiment arrives)."""
    try:
        record = ws.record(exp)
    except WorkspaceError as exc:
        return placeholder_card(exp, str(exc))
    commit = experiment_commits(ws).get(exp)
    context = card_context(ws, record, commit)
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
    records, _ = read_records(ws)
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
    records, broken = read_records(ws)
    by_id = {r.id: r for r in records}
    cards = [
        ENV.get_template("card.html.j2").render(
            card=card_context(ws, by_id[exp], commits.get(exp)), colors=STATUS_COLORS
        )
        if exp in by_id
        else placeholder_card(exp, broken[exp])
        for exp in ws.record_ids()
    ]
    overview = render_overview(ws)
    return ENV.get_template("page.html.j2").render(
        headline=headline(ws).lines(str(ws.root)),
        formula=QUALITY_FORMULA,
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
