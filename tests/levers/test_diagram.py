"""Process diagrams from traces: Mermaid, SVG tile, terminal text."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from levers.diagram import LEGEND, layers, mermaid, svg_tile, text_diagram
from levers.trace import TraceNode


def node(kind="inference", label="generate", stage="generate", adapter_kind=None) -> TraceNode:
    return TraceNode(
        kind=kind,
        label=label,
        stage=stage,
        input_tokens=10,
        output_tokens=5,
        seconds=0.5,
        adapter_kind=adapter_kind,
    )


TRACE = [
    node("python_step", "retrieve", "prepare"),
    node(label="list unknowns"),
    *[node(label="one question each") for _ in range(7)],
    node("adapter_inference", "revise 1", "refine", adapter_kind="sft"),
    node("adapter_inference", "revise 2", "refine", adapter_kind="orpo"),
]


def test_layers_group_parallel_calls():
    assert [(layer.label, layer.width, layer.key) for layer in layers(TRACE)] == [
        ("retrieve", 1, "python_step"),
        ("list unknowns", 1, "inference"),
        ("one question each", 7, "inference"),
        ("revise 1", 1, "sft"),
        ("revise 2", 1, "orpo"),
    ]


def test_mermaid_has_one_node_per_layer_and_legend_classes():
    text = mermaid(TRACE)
    assert text.startswith("flowchart TD")
    assert "one question each ×7" in text
    assert ":::sft" in text and ":::orpo" in text and ":::python_step" in text
    assert text.count("-->") == len(layers(TRACE)) + 1
    for key in LEGEND:
        assert f"classDef {key} " in text


def test_svg_tile_width_follows_parallel_calls_and_height_stages():
    svg = ET.fromstring(svg_tile(TRACE))
    ns = "{http://www.w3.org/2000/svg}"
    groups = svg.findall(f"{ns}g")
    rects = [r for g in groups for r in g.findall(f"{ns}rect")]
    assert len(rects) == 11 and len(groups) == len(layers(TRACE))
    titles = [g.find(f"{ns}title").text for g in groups]
    assert titles == [layer.title() for layer in layers(TRACE)]
    assert "one question each" in titles[2] and "· 7 calls ·" in titles[2]
    assert titles[2].endswith(f"· {layers(TRACE)[2].tokens()} tokens")
    colours = {r.get("fill") for r in rects}
    assert colours == {LEGEND[k][1] for k in ("python_step", "inference", "sft", "orpo")}
    single = ET.fromstring(svg_tile([node()]))
    assert float(svg.get("width")) > float(single.get("width"))
    assert float(svg.get("height")) > float(single.get("height"))
    with_legend = svg_tile(TRACE, legend=True)
    assert all(label in with_legend for label, _ in LEGEND.values())
    assert len(set(c for _, c in LEGEND.values())) == len(LEGEND)


def test_text_diagram_lists_layers_with_legend():
    text = text_diagram(TRACE)
    lines = text.strip().splitlines()
    assert len(lines) == 6
    assert lines[2].startswith("◆" * 7) and "one question each" in lines[2]
    assert "SFT adapter call" in lines[-1] and "ORPO adapter call" in lines[-1]
    assert text_diagram([]) == "(empty trace)\n"
