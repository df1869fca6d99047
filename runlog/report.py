"""`runlog/dashboard.html`: one self-contained page (inline CSS and SVG, no network, no CDN).

Summary, a lever-class table, quality over experiments (every run a point, the kept line as
steps, intervals as bars), a grid of process-diagram tiles, one card per experiment, and the
reference analyses (the cloud-ceiling table, the per-dimension "scored as candidate" table,
one table per re-judge, then a card per record). The page is rendered with the jinja2
template `runlog/templates/`.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from levers.diagram import legend_entries, svg_tile
from levers.trace import TraceNode
from models.files import atomic_write_text
from ruler.records import DIMENSIONS
from runlog.calibration import calibration
from runlog.records import ExperimentRecord
from runlog.reference import reference_tables
from runlog.reference.headline import QUALITY_FORMULA, headline
from runlog.reliability import judge_reliability, keep_reliability, latest_recheck
from runlog.rows import format_number
from runlog.views import log_view
from runlog.workspace import Workspace

STATUS_COLORS = {"kept": "#1a7f37", "discarded": "#8c959f", "failed": "#cf222e"}
CHART_W, CHART_H, PAD_L, PAD_R, PAD_T, PAD_B = 900, 300, 56, 20, 20, 40


def _y_range(records: list[ExperimentRecord]) -> tuple[float, float]:
    values = [
        v
        for r in records
        if r.result
        for v in (r.result.interval.low, r.result.interval.high, r.result.quality)
    ]
    if not values:
        return 0.0, 1.0
    low, high = max(0.0, min(values) - 0.05), min(1.0, max(values) + 0.05)
    return (low, high) if high - low >= 0.1 else (max(0.0, low - 0.05), min(1.0, high + 0.05))


def quality_chart(records: list[ExperimentRecord]) -> str:
    """Inline SVG: quality per experiment (points by status), interval bars, kept-line steps."""
    lo, hi = _y_range(records)
    n = max(len(records), 1)
    plot_w, plot_h = CHART_W - PAD_L - PAD_R, CHART_H - PAD_T - PAD_B

    def x(i: int) -> float:
        return PAD_L + (i + 0.5) * plot_w / n

    def y(q: float) -> float:
        return PAD_T + (1 - (q - lo) / (hi - lo)) * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {CHART_W} {CHART_H}" '
        'class="chart" role="img" aria-label="quality over experiments">',
        f'<rect x="{PAD_L}" y="{PAD_T}" width="{plot_w}" height="{plot_h}" '
        'fill="#fafbfc" stroke="#d0d7de"/>',
    ]
    for k in range(5):
        q = lo + (hi - lo) * k / 4
        parts.append(_line(PAD_L, y(q), CHART_W - PAD_R, y(q), "#eaeef2"))
        parts.append(_label(PAD_L - 6, y(q) + 4, f"{q:.2f}", "end"))
    parts.append(_kept_line(records, x, y))
    for i, record in enumerate(records):
        parts.append(_point(record, x(i), y, CHART_H - PAD_B))
        if n <= 40 or i % max(1, n // 20) == 0:
            parts.append(_label(x(i), CHART_H - PAD_B + 16, record.id))
    parts.append(_label(PAD_L + plot_w / 2, CHART_H - 6, "experiment"))
    parts.append("</svg>")
    return "\n".join(parts)


def _line(x1: float, y1: float, x2: float, y2: float, color: str) -> str:
    return f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{y1:.1f}" y2="{y2:.1f}" stroke="{color}"/>'


def _label(x: float, y: float, text: str, anchor: str = "middle") -> str:
    attrs = f'x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" class="axis"'
    return f"<text {attrs}>{escape(text)}</text>"


def _kept_line(records: list[ExperimentRecord], x, y) -> str:
    """Steps through the kept experiments: the best quality so far, held to the right edge."""
    steps: list[str] = []
    best = None
    for i, record in enumerate(records):
        if record.status == "kept" and record.result:
            if best is not None:
                steps.append(f"L{x(i):.1f},{y(best):.1f}")
            best = record.result.quality
            steps.append(f"{'L' if steps else 'M'}{x(i):.1f},{y(best):.1f}")
    if best is None:
        return ""
    steps.append(f"L{CHART_W - PAD_R:.1f},{y(best):.1f}")
    return f'<path d="{" ".join(steps)}" fill="none" stroke="#1a7f37" stroke-width="2"/>'


def _point(record: ExperimentRecord, cx: float, y, bottom: float) -> str:
    color = STATUS_COLORS[record.status]
    title = f"<title>{escape(record.name)} {record.status}: {escape(record.hypothesis)}</title>"
    result = record.result
    if result is None:
        return (
            f'<g>{title}<text x="{cx:.1f}" y="{bottom - 6:.1f}" text-anchor="middle" '
            f'fill="{color}" font-weight="bold">×</text></g>'
        )
    low, high = y(result.interval.low), y(result.interval.high)
    return (
        f'<g>{title}<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{low:.1f}" y2="{high:.1f}" '
        f'stroke="{color}" stroke-opacity="0.5" stroke-width="3"/>'
        f'<circle cx="{cx:.1f}" cy="{y(result.quality):.1f}" r="5" fill="{color}"/></g>'
    )


def lever_class_table(records: list[ExperimentRecord]) -> list[dict[str, Any]]:
    """Per lever class: runs, kept, the best quality with its coverage and gate."""
    rows: dict[str, dict[str, Any]] = {}
    for record in records:
        row = rows.setdefault(
            record.lever_class,
            {
                "lever_class": record.lever_class,
                "runs": 0,
                "kept": 0,
                "best": None,
            },
        )
        row["runs"] += 1
        row["kept"] += record.status == "kept"
        result = record.result
        if result and (row["best"] is None or result.quality > row["best"].quality):
            row["best"] = result
            row["best_id"] = record.id
    table = []
    for row in rows.values():
        best = row.pop("best")
        row.update(
            quality=best.quality if best else None,
            coverage=best.dimension_means.get("coverage") if best else None,
            gate=best.gate if best else "-",
        )
        table.append(row)
    return sorted(table, key=lambda r: -(r["quality"] or -1))


def _nodes(trace: list[dict[str, Any]]) -> list[TraceNode]:
    return [TraceNode.model_validate(n) for n in trace]


def _tile(trace: list[dict[str, Any]]) -> Markup:
    """A process-diagram tile; each layer carries its tooltip, the legend is the page's."""
    if not trace:
        return Markup('<div class="empty">no trace</div>')
    return Markup(svg_tile(_nodes(trace)))


def _summary(ws: Workspace, records: list[ExperimentRecord], rows: list[dict]) -> dict[str, Any]:
    best = ws.current_best()
    first = next((r for r in records if r.result), None)
    return {
        "root": str(ws.root),
        "candidate": ws.config.candidate.model,
        "judge": f"{ws.config.judge.spec} ({ws.config.judge.mode})",
        "ruler": f"{ws.config.ruler.name} · {ws.config.ruler.lock_hash[:12]}",
        "experiments": len(records),
        "counts": {s: sum(r.status == s for r in records) for s in STATUS_COLORS},
        "best": best.record if best else None,
        "baseline": first,
        "cost_usd": sum(r.cost_usd for r in records),
        "hours": sum(r.wall_seconds for r in records) / 3600,
        "calibration": calibration(records).line(),
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "false_keeps": keep_reliability(ws),
        "judge_reliability": judge_reliability(ws),
        "recheck": latest_recheck(ws),
    }


@functools.cache
def _environment() -> Environment:
    """The page's environment (its compiled template is reused by every rewrite)."""
    env = Environment(
        loader=PackageLoader("runlog", "templates"), autoescape=select_autoescape(["html", "j2"])
    )
    env.filters["q"] = format_number
    env.filters["d"] = lambda v: format_number(v, 2)
    return env


def render_dashboard(ws: Workspace) -> str:
    records, references = ws.records(), ws.references()
    rows = log_view(ws)
    cards = [
        {"record": r, "row": row, "tile": _tile(r.trace)}
        for r, row in zip(records, rows, strict=True)
    ]
    return (
        _environment()
        .get_template("dashboard.html.j2")
        .render(
            summary=_summary(ws, records, rows),
            lever_classes=lever_class_table(records),
            chart=Markup(quality_chart(records)),
            cards=cards,
            references=[{"ref": r, "tile": _tile(r.trace)} for r in references],
            reference_tables=reference_tables(ws),
            legend=legend_entries([_nodes(r.trace) for r in [*records, *references]]),
            dimensions=DIMENSIONS,
            colors=STATUS_COLORS,
            headline=headline(ws).lines(str(ws.root)),
            formula=QUALITY_FORMULA,
        )
    )


def write_dashboard(ws: Workspace, path: Path | None = None) -> Path:
    """Render and write the dashboard atomically (default `runlog/dashboard.html`)."""
    target = Path(path) if path else ws.dashboard_path
    atomic_write_text(target, render_dashboard(ws))
    return target
