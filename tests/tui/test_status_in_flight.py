"""The status bar names each in-flight experiment of a `--parallel` run and its worker."""

from __future__ import annotations

from orchestrator.control import LiveStatus
from tui.widgets.status_bar import StatusBar


def test_in_flight_experiments_and_their_workers_are_shown() -> None:
    bar = StatusBar()
    bar.live = LiveStatus(state="running", in_flight={"005": "w2", "004": "w1"})
    assert "in flight 004@w1 005@w2" in bar.render_text().plain
    bar.live = LiveStatus(state="stopped", in_flight={"004": "w1"})
    assert "in flight" not in bar.render_text().plain  # a stopped loop has nothing in flight
    bar.live = LiveStatus(state="running")  # the default loop: no line
    assert "in flight" not in bar.render_text().plain
