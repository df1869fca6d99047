"""The header: workspace, researcher, loop state, best quality with its interval, counts, cost."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from orchestrator.control import LiveStatus
from tui.numbers import number
from tui.views import Summary

STATE_STYLES: dict[str, tuple[str, str]] = {
    "starting": ("starting", "yellow"),
    "running": ("running", "green"),
    "paused": ("paused", "yellow"),
    "waiting_for_approval": ("waiting for approval", "bold magenta"),
    "training": ("training", "cyan"),
    "stopped": ("stopped", "red"),
}


class StatusBar(Static):
    """Two lines on top of the main screen; `show` re-renders from a summary and a live status."""

    def __init__(self, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.summary: Summary | None = None
        self.live: LiveStatus | None = None
        self._shown: Text | None = None

    def show(self, summary: Summary | None = None, live: LiveStatus | None = None) -> None:
        self.summary = summary or self.summary
        self.live = live or self.live
        text = self.render_text()
        if text != self._shown:  # the live status is polled: redraw only on a change
            self._shown = text
            self.update(text)

    def render_text(self) -> Text:
        summary = self.summary or Summary(workspace="")
        live = self.live or LiveStatus()
        return Text.assemble(*self._first_line(summary, live), "\n", *self._second_line(summary))

    def _first_line(self, summary: Summary, live: LiveStatus) -> list:
        label, style = STATE_STYLES.get(live.state, (live.state, ""))
        parts: list = [
            ("autoresearch ", "bold"),
            (summary.workspace, "bold cyan"),
            "  researcher ",
            (live.researcher or summary.researcher or "—", "bold"),
            "  ",
            (f"● {label}", style),
        ]
        if live.state != "stopped":
            where = " ".join(x for x in (live.experiment, live.node, live.gate) if x)
            if where:
                parts.append(f"  {where}")
            if live.progress:
                parts.append(f" {live.progress[0]}/{live.progress[1]}")
        if live.message:
            parts.append((f"  {live.message}", "dim"))
        if live.in_flight and live.state != "stopped":  # --parallel: each experiment's worker
            flying = " ".join(f"{exp}@{worker}" for exp, worker in sorted(live.in_flight.items()))
            parts.append(("  in flight ", "dim"))
            parts.append((flying, "bold"))
        return parts

    def _second_line(self, summary: Summary) -> list:
        interval = ""
        if summary.best_interval is not None:
            low, high = summary.best_interval
            interval = f" [{number(low)}, {number(high)}]"
        best = f"{summary.best_id} " if summary.best_id else ""
        return [
            "best ",
            (f"{best}{number(summary.best_quality)}{interval}", "bold green"),
            *_recheck(summary),
            *([(f" · {summary.closeness}", "bold")] if summary.closeness else []),
            "  kept ",
            (str(summary.kept), "green"),
            *_false_keeps(summary),
            "  discarded ",
            (str(summary.discarded), "yellow"),
            "  failed ",
            (str(summary.failed), "red"),
            f"  cost ${summary.cost_usd:.2f}",
        ]


def _recheck(summary: Summary) -> list:
    """The best's re-measure (winner's curse), red when flagged."""
    if not summary.recheck:
        return []
    return [(f" {summary.recheck}", "red" if "⚠" in summary.recheck else "dim")]


def _false_keeps(summary: Summary) -> list:
    """The expected false keeps among the kept so far (the screen's simulated rate)."""
    if summary.false_keeps is None:
        return []
    return [(f" (≈{summary.false_keeps:.2f} false)", "dim")]
