"""The TUI's test double and the real workspace adapter satisfy the same `Source` protocol:
the same members with the same signatures, and the same behaviour where the tests rely on it."""

from __future__ import annotations

import inspect
import typing
from pathlib import Path

import pytest

import runlog.bisect
from orchestrator.control import ControlCommand, LiveStatus, read_commands
from runlog.bisect import BisectResult
from tests.tui.helpers import commit_experiment
from tests.tui.snapshot_app import FixedSource
from tui.source import Source
from tui.views import BisectOutcome, ExperimentDetail, ExperimentRow, Summary
from tui.workspace_source import BisectUnresolved, WorkspaceSource

METHODS = (
    "version",
    "summary",
    "rows",
    "detail",
    "cases",
    "status",
    "events",
    "send",
    "write_report",
    "bisect",
)


def protocol_methods() -> list[str]:
    members = vars(Source).items()
    return [name for name, value in members if inspect.isfunction(value) and name[0] != "_"]


def shape(function: typing.Callable) -> list[tuple]:
    """Each parameter's name, kind, default and resolved type, and the resolved return type."""
    hints = typing.get_type_hints(function)
    params = inspect.signature(function).parameters.values()
    return [(p.name, p.kind, p.default, hints.get(p.name)) for p in params] + [
        ("return", hints.get("return"))
    ]


def test_the_protocol_names_every_method_the_app_uses() -> None:
    assert sorted(protocol_methods()) == sorted(METHODS)
    assert typing.get_type_hints(Source)["workspace"] is Path


@pytest.mark.parametrize("implementation", [FixedSource, WorkspaceSource])
@pytest.mark.parametrize("name", METHODS)
def test_each_source_has_the_protocols_signature(implementation: type, name: str) -> None:
    assert shape(getattr(implementation, name)) == shape(getattr(Source, name))


@pytest.fixture(params=["fixed", "workspace"])
def source(request: pytest.FixtureRequest, workspace: Path) -> Source:
    if request.param == "fixed":
        return FixedSource()
    commit_experiment(workspace, "001", quality=0.30, hypothesis="baseline")
    commit_experiment(workspace, "002", quality=0.34, delta=0.04, temperature=0.7)
    commit_experiment(workspace, "003", status="discarded", quality=0.31, delta=-0.03)
    return WorkspaceSource(workspace)


def test_each_source_reads_like_the_other(source: Source) -> None:
    assert isinstance(source, Source) and isinstance(source.workspace, Path)
    assert source.version() == source.version()
    rows, summary = source.rows(), source.summary()
    assert rows and all(isinstance(r, ExperimentRow) for r in rows)
    assert isinstance(summary, Summary)
    kept = [r.id for r in rows if r.status == "kept" and not r.reference]
    assert summary.kept == len(kept) and summary.best_id == max(kept)
    assert summary.discarded == sum(r.status == "discarded" for r in rows)
    best = next(r for r in rows if r.id == summary.best_id)
    assert summary.best_quality == best.quality
    detail = source.detail(best.id)  # the best changed the agent: its detail has a diff
    assert isinstance(detail, ExperimentDetail) and detail.id == best.id
    assert detail.quality == best.quality and "\n+++ b/agent/agent.toml\n" in detail.diff
    assert detail.cases and {c.outcome for c in detail.cases} <= {"W", "T", "L"}
    assert source.detail("999") is None
    assert isinstance(source.status(), LiveStatus)
    events, offset = source.events(0)
    assert isinstance(events, list) and source.events(offset) == ([], offset)
    assert source.write_report().name == "dashboard.html"


def test_each_source_sends_commands(source: Source) -> None:
    command = source.send("deny", text="not now", request="req-1")
    assert isinstance(command, ControlCommand)
    assert (command.kind, command.text, command.request) == ("deny", "not now", "req-1")
    if isinstance(source, WorkspaceSource):
        assert read_commands(source.workspace)[0] == [command]


def test_each_source_passes_bisect_progress_on(
    source: Source, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real bisect is tested in tests/runlog/test_bisect.py; here the adapter's wiring."""

    def fake_bisect(ws, *, good, bad, check, gate, progress) -> BisectResult:
        for step in (1, 2, 3):
            progress(step, 3, f"{step:040x}")
        return BisectResult(good, bad, check, "f" * 40, experiment="006", subject="rag k=8")

    monkeypatch.setattr(runlog.bisect, "bisect", fake_bisect)
    steps: list[tuple[int, int, str]] = []
    outcome = source.bisect(
        "exp/001", "exp/003", "quality>0.3", "dev-10", lambda *step: steps.append(step)
    )
    assert isinstance(outcome, BisectOutcome) and outcome.first_bad == "006"
    assert [s[:2] for s in steps] == [(1, 3), (2, 3), (3, 3)]


def test_an_unresolved_bisect_is_an_error(workspace: Path, monkeypatch) -> None:
    def fake_bisect(ws, *, good, bad, check, gate, progress) -> BisectResult:
        return BisectResult(good, bad, check, None, log="a\nb\nbisect run failed")

    monkeypatch.setattr(runlog.bisect, "bisect", fake_bisect)
    with pytest.raises(BisectUnresolved, match="bisect run failed"):
        WorkspaceSource(workspace).bisect("exp/001", "exp/002", "quality>0.3", None, None)
