"""The live event stream: node transitions, gate progress, notes, approvals, training progress."""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual.widgets import RichLog

KIND_STYLES = {
    "node": "cyan",
    "gate_progress": "blue",
    "note": "magenta",
    "approval": "bold magenta",
    "training_progress": "yellow",
    "approval_request": "bold magenta",
    "pause": "yellow",
    "resume": "green",
    "stop": "red",
    "experiment": "bold green",
    "error": "bold red",
    "tui": "dim",
}
SKIP = {"time", "kind"}


def describe(event: dict[str, Any]) -> str:
    """One line for an event; known kinds read naturally, the rest show their fields."""
    kind = event.get("kind", "")
    get = event.get
    if kind == "node":
        return f"{get('experiment', '')} → {get('node', '')}".strip()
    if kind == "gate_progress":
        where = " ".join(str(get(k)) for k in ("experiment", "gate", "stage") if get(k))
        return f"{where} {get('done', '?')}/{get('total', '?')}"
    if kind == "note":
        return f"note: {get('text', '')}"
    if kind == "approval":
        decision = get("decision") or get("status") or ""
        return f"approval {decision} {get('request', '')} {get('text', '')}".rstrip()
    if kind == "training_progress":
        loss = f" loss {get('loss'):.3f}" if isinstance(get("loss"), int | float) else ""
        return f"training {get('step', get('done', '?'))}/{get('total', '?')}{loss}"
    if kind == "approval_request":
        return f"training request {get('id', '')} ({get('kind', '')}): {get('rationale', '')}"
    if kind in ("pause", "resume", "stop", "error", "ignored", "tui", "bisect"):
        return str(get("text") or kind)
    if kind == "experiment":
        quality = get("quality")
        q = f" quality {quality:.3f}" if isinstance(quality, int | float) else ""
        return f"{get('id', get('experiment', ''))} {get('status', '')}{q}".strip()
    fields = " ".join(f"{k}={v}" for k, v in event.items() if k not in SKIP)
    return fields or kind


def _progress_key(event: dict[str, Any]) -> tuple | None:
    if event.get("kind") not in ("gate_progress", "training_progress"):
        return None
    return tuple(event.get(k) for k in ("kind", "experiment", "gate", "stage"))


def coalesce(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A burst of progress events for one gate and stage, read in one poll, as its last one."""
    kept: list[dict[str, Any]] = []
    for event in events:
        key = _progress_key(event)
        if key is not None and kept and _progress_key(kept[-1]) == key:
            kept[-1] = event
        else:
            kept.append(event)
    return kept


class EventStream(RichLog):
    """`add_events(events)` appends one line each; timestamps come from the events themselves."""

    def __init__(self, **kwargs) -> None:
        super().__init__(wrap=True, markup=False, max_lines=2000, **kwargs)

    def add_events(self, events: list[dict[str, Any]]) -> None:
        for event in coalesce(events):
            self.write(self.line(event))

    @staticmethod
    def line(event: dict[str, Any]) -> Text:
        kind = str(event.get("kind", ""))
        text = Text()
        if isinstance(event.get("time"), int | float):
            text.append(time.strftime("%H:%M:%S ", time.localtime(event["time"])), style="dim")
        text.append(f"{kind:<9} ", style=KIND_STYLES.get(kind, ""))
        text.append(describe(event))
        return text
