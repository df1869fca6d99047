"""The training-request dialog: `a`/`d` open it on their own button, and a request this machine
cannot train is shown as such and cannot be approved."""

from __future__ import annotations

from textual.widgets import Button, Static

from tests.tui.helpers import wait_for
from tests.tui.snapshot_app import REQUEST, UNTRAINABLE, FixedSource
from tui.app import AutoresearchApp
from tui.screens.approval import ApprovalScreen
from tui.views import TrainingRequest

SIZE = (120, 40)


def focused_id(app: AutoresearchApp) -> str | None:
    return app.focused.id if app.focused is not None else None


async def test_d_on_the_main_screen_opens_the_request_on_deny() -> None:
    source = FixedSource(pending=True)
    app = AutoresearchApp(source, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: focused_id(app) == "approve")  # opened by the poll
        await pilot.press("escape")  # later
        await wait_for(pilot, lambda: app.screen.id == "main")
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await wait_for(pilot, lambda: focused_id(app) == "deny")
        await pilot.press("enter")  # Enter presses the focused button: Deny
        await wait_for(pilot, lambda: app.screen.id == "main")
    assert [(c.kind, c.request) for c in source.sent] == [("deny", REQUEST["id"])]


async def test_a_on_the_main_screen_opens_the_request_on_approve() -> None:
    source = FixedSource(pending=True)
    app = AutoresearchApp(source, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: focused_id(app) == "approve")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen.id == "main")
        await pilot.press("a")
        await wait_for(pilot, lambda: focused_id(app) == "approve")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.id == "main")
    assert [c.kind for c in source.sent] == ["approve"]


async def test_a_request_that_cannot_train_here_cannot_be_approved() -> None:
    source = FixedSource(pending=True, trainable=False)
    app = AutoresearchApp(source, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: focused_id(app) == "deny")  # Approve cannot take focus
        screen = app.screen
        assert isinstance(screen, ApprovalScreen)
        shown = str(screen.query_one("#trainable", Static).content)
        assert "cannot train here" in shown and UNTRAINABLE["note"] in shown
        assert screen.query_one("#approve", Button).disabled
        await pilot.press("a")  # the key is guarded as well as the button
        await pilot.pause()
        assert app.screen is screen and source.sent == []
        await pilot.click("#approve")
        await pilot.pause()
        assert app.screen is screen and source.sent == []
        await pilot.press("d")
        await wait_for(pilot, lambda: app.screen.id == "main")
    assert [c.kind for c in source.sent] == ["deny"]


async def test_a_request_that_can_train_here_says_so() -> None:
    app = AutoresearchApp(FixedSource(pending=True), poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: focused_id(app) == "approve")
        assert "trainable here" in str(app.screen.query_one("#trainable", Static).content)
        assert not app.screen.query_one("#approve", Button).disabled


def test_training_request_reads_the_loops_payload() -> None:
    request = TrainingRequest.from_payload({**UNTRAINABLE, "type": "training"})
    assert (request.id, request.trainable_here, request.reason) == (
        "req-001",
        False,
        UNTRAINABLE["note"],
    )
    assert request.estimated_seconds is None and request.data_size == 160
    assert request.experiments == ("exp005", "exp006", "exp007", "exp008")
    older = TrainingRequest.from_payload({"id": "exp004", "kind": "sft"})
    assert older.trainable_here and older.reason == ""
