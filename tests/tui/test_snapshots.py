"""SVG snapshots of the main screen, the approval modal and the chart (fixed data, fixed size).

Update after an intended change: `python -m pytest tests/tui/test_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

from tests.tui.helpers import wait_for
from tests.tui.snapshot_app import make_app

SIZE = (120, 40)


def test_main_screen(snap_compare) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE)


def test_approval_modal(snap_compare) -> None:
    app = make_app(pending=True)

    async def modal_open(pilot) -> None:
        await wait_for(pilot, lambda: app.focused is not None and app.focused.id == "approve")

    assert snap_compare(app, terminal_size=SIZE, run_before=modal_open)


def test_chart(snap_compare) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE, press=["c"])


def test_chart_of_one_dimension(snap_compare) -> None:
    # ] steps the selector: quality -> atomicity -> specificity -> coverage
    assert snap_compare(make_app(), terminal_size=SIZE, press=["c", "]", "]", "]"])
