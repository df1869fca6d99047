"""The dashboard: self-contained HTML that renders in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from runlog.records import ReferenceRecord
from runlog.report import lever_class_table, quality_chart, write_dashboard
from runlog.workspace import Workspace
from tests.runlog.conftest import gate_result, make_record, set_agent

TRACE = [
    {"kind": "python_step", "label": "retrieve", "stage": "prepare"},
    {
        "kind": "inference",
        "label": "generate",
        "stage": "generate",
        "model_id": "fake:planner",
        "input_tokens": 120,
        "output_tokens": 80,
        "seconds": 0.5,
    },
    {"kind": "inference", "label": "critique", "stage": "refine", "model_id": "fake:planner"},
]


def fill(ws: Workspace) -> None:
    plan = [
        ("001", "baseline", "kept", 0.38, "baseline"),
        ("002", "rubric prompt", "kept", 0.42, "prompt"),
        ("003", "retrieve 4 examples", "discarded", 0.40, "rag"),
        ("004", "self critique", "failed", None, "self_critique"),
        ("005", "two-call pipeline", "kept", 0.47, "multi_call"),
    ]
    for exp, hypothesis, status, quality, lever_class in plan:
        set_agent(ws, hypothesis)
        ws.commit_experiment(
            make_record(exp, hypothesis, status, quality, lever_class, trace=TRACE)
        )
    ws.write_reference(
        ReferenceRecord(
            id="ceiling-sonnet",
            kind="ceiling",
            title="Cloud ceiling: claude-sonnet-4-6",
            gates=[gate_result(0.66, gate="full-30")],
            model_ids={"candidate": "anthropic:claude-sonnet-4-6"},
            trace=TRACE[1:2],
        )
    )


def test_lever_class_table_and_chart(ws: Workspace) -> None:
    fill(ws)
    table = {row["lever_class"]: row for row in lever_class_table(ws.records())}
    assert table["multi_call"]["quality"] == pytest.approx(0.47)
    assert table["self_critique"]["quality"] is None and table["self_critique"]["runs"] == 1
    svg = quality_chart(ws.records())
    assert svg.startswith("<svg") and svg.count("<circle") == 4 and "×" in svg
    assert "<path" in svg  # the kept line


def test_dashboard_is_self_contained(ws: Workspace) -> None:
    fill(ws)
    html = write_dashboard(ws).read_text()
    assert "Lever classes" in html and "Reference analyses" in html
    assert "Cloud ceiling: claude-sonnet-4-6" in html
    assert html.count('class="tile"') == 5 and html.count('<article class="card" id="exp') == 5
    fetched = re.findall(r'(?:src|href)\s*=\s*["\']?(https?:|//)', html)
    assert fetched == [] and "<script" not in html and "@import" not in html


def test_every_diagram_layer_has_a_tooltip_and_the_legend_shows_once(ws: Workspace) -> None:
    fill(ws)
    html = write_dashboard(ws).read_text()
    tiles = html[html.index('id="diagrams"') : html.index('id="experiments"')]
    titles = re.findall(r'<g class="layer" aria-label="[^"]*"><title>([^<]*)</title>', tiles)
    assert titles[:3] == [
        "prepare: retrieve · Python/user step · 1 call · 0 tokens",
        "generate: generate · inference call · 1 call · 200 tokens",
        "refine: critique · inference call · 1 call · 0 tokens",
    ]
    assert len(titles) == 5 * 3  # every layer of the five tiles, none left bare
    assert html.count('id="diagram-legend"') == 1
    legend = re.findall(r'<span class="legend-item">.*?</i>([^<]*)</span>', html)
    assert legend == ["inference call", "Python/user step"]  # the kinds on the page, once each
    assert "<text" not in tiles  # no legend repeated inside a tile


def test_empty_workspace_report(ws: Workspace) -> None:
    assert "no experiments yet" in write_dashboard(ws).read_text()


@pytest.mark.slow  # Chromium
def test_dashboard_renders_in_headless_chromium(ws: Workspace, tmp_path: Path) -> None:
    assert shutil.which("chromium"), "chromium is missing: scripts/setup.sh installs it"
    fill(ws)
    page = write_dashboard(ws)
    shot = tmp_path / "dashboard.png"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                "chromium",
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                f"--screenshot={shot}",
                "--window-size=1200,2000",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    keep = Path(tempfile.gettempdir()) / "autoresearch-dashboard.png"
    shutil.copy(shot, keep)  # left for a human to look at
