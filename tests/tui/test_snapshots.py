"""SVG snapshots of the main screen, the approval modal and the chart (fixed data, fixed size).

Update after an intended change: `python -m pytest tests/tui/test_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

from tests.tui.helpers import wait_for
from tests.tui.snapshot_app import make_app
from tui.widgets.detail_pane import DetailPane

SIZE = (120, 40)


def test_main_screen(snap_compare) -> None:
    app = make_app()

    async def detail_shown(pilot) -> None:  # the detail loads in a worker
        panes = lambda: app.main.query(DetailPane)  # noqa: E731
        await wait_for(pilot, lambda: bool(panes()) and panes().first().detail is not None)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=detail_shown)


def test_approval_modal(snap_compare) -> None:
    app = make_app(pending=True)

    async def modal_open(pilot) -> None:
        await wait_for(pilot, lambda: app.focused is not None and app.focused.id == "approve")

    assert snap_compare(app, terminal_size=SIZE, run_before=modal_open)


def test_approval_modal_of_a_request_that_cannot_train_here(snap_compare) -> None:
    app = make_app(pending=True, trainable=False)

    async def modal_open(pilot) -> None:  # Approve is disabled: the focus is on Deny
        await wait_for(pilot, lambda: app.focused is not None and app.focused.id == "deny")

    assert snap_compare(app, terminal_size=SIZE, run_before=modal_open)


def test_chart(snap_compare) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE, press=["c"])


def test_chart_of_one_dimension(snap_compare) -> None:
    # ] steps the selector: quality -> atomicity -> specificity -> coverage
    assert snap_compare(make_app(), terminal_size=SIZE, press=["c", "]", "]", "]"])
