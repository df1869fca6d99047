"""Process diagrams of a trace: Mermaid text, a small SVG tile, and plain text for terminals.

A trace is cut into layers: consecutive nodes of the same stage and label are one layer (calls
made side by side, e.g. one question per unknown). In the tile, height grows with the number of
layers and each layer's width with its parallel calls; colours follow the seed report's legend.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from levers.trace import TraceNode

LEGEND: dict[str, tuple[str, str]] = {  # key: (label, colour)
    "inference": ("inference call", "#4C78A8"),
    "sft": ("SFT adapter call", "#F58518"),
    "orpo": ("ORPO adapter call", "#B279A2"),
    "python_step": ("Python/user step", "#54A24B"),
    "adapter_training": ("adapter training", "#E45756"),
}
SYMBOLS = {"inference": "◆", "sft": "▲", "orpo": "▼", "python_step": "■", "adapter_training": "●"}


def legend_key(node: TraceNode) -> str:
    if node.kind == "adapter_inference":
        return node.adapter_kind or "sft"
    return node.kind


@dataclass
class Layer:
    stage: str
    label: str
    key: str
    nodes: list[TraceNode]

    @property
    def width(self) -> int:
        return len(self.nodes)

    def tokens(self) -> int:
        return sum(n.input_tokens + n.output_tokens for n in self.nodes)

    def title(self) -> str:
        """The layer's tooltip: stage, label, kind, how many calls and their tokens."""
        calls = f"{self.width} call" + ("s" if self.width != 1 else "")
        return (
            f"{self.stage}: {self.label} · {LEGEND[self.key][0]} · {calls} · {self.tokens()} tokens"
        )


def layers(trace: list[TraceNode]) -> list[Layer]:
    """Consecutive nodes with the same stage, label and kind form one layer."""
    out: list[Layer] = []
    for node in trace:
        key = legend_key(node)
        last = out[-1] if out else None
        if last and (last.stage, last.label, last.key) == (node.stage, node.label, key):
            last.nodes.append(node)
        else:
            out.append(Layer(node.stage, node.label, key, [node]))
    return out


def legend_entries(traces: list[list[TraceNode]]) -> list[tuple[str, str]]:
    """(label, colour) of every kind that occurs in `traces`, in legend order: a page shows the
    legend once for all its tiles."""
    used = {legend_key(node) for trace in traces for node in trace}
    return [entry for key, entry in LEGEND.items() if key in used]


def mermaid(trace: list[TraceNode]) -> str:
    """A Mermaid flowchart: one node per layer (×N for parallel calls), coloured by kind."""
    lines = ["flowchart TD", '  start(["task"])']
    previous = "start"
    for i, layer in enumerate(layers(trace)):
        times = f" ×{layer.width}" if layer.width > 1 else ""
        text = f"{layer.stage}: {layer.label}{times}".replace('"', "'")
        shape = f'[["{text}"]]' if layer.key == "python_step" else f'["{text}"]'
        lines.append(f"  n{i}{shape}:::{layer.key}")
        lines.append(f"  {previous} --> n{i}")
        previous = f"n{i}"
    lines.append('  done(["plan"])')
    lines.append(f"  {previous} --> done")
    for key, (_, colour) in LEGEND.items():
        lines.append(f"  classDef {key} fill:{colour},color:#fff,stroke:#333")
    return "\n".join(lines) + "\n"


def text_diagram(trace: list[TraceNode]) -> str:
    """One line per layer: symbol × width, stage, label, tokens and seconds."""
    if not trace:
        return "(empty trace)\n"
    rows = []
    for layer in layers(trace):
        marks = SYMBOLS[layer.key] * min(layer.width, 12)
        seconds = sum(n.seconds for n in layer.nodes)
        rows.append(
            f"{marks:<12} {layer.stage:<14} {layer.label[:40]:<40} "
            f"{layer.tokens():>6} tok {seconds:>7.2f}s"
        )
    keys = dict.fromkeys(layer.key for layer in layers(trace))
    legend = "  ".join(f"{SYMBOLS[k]} {LEGEND[k][0]}" for k in keys)
    return "\n".join([*rows, legend]) + "\n"


def svg_tile(trace: list[TraceNode], *, legend: bool = False, cell: int = 10) -> str:
    """A small SVG: one row per layer, one box per parallel call; optional legend below."""
    rows = layers(trace)
    widest = max((layer.width for layer in rows), default=1)
    gap = 2
    width = max(widest * (cell + gap) + gap, 5 * cell)
    height = max(len(rows), 1) * (cell + gap) + gap
    legend_h = len(LEGEND) * 14 + 4 if legend else 0
    total_w = max(width, 150) if legend else width
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_w}" height="{height + legend_h}" '
        f'viewBox="0 0 {total_w} {height + legend_h}" role="img">'
    ]
    for r, layer in enumerate(rows):
        parts.append(_layer_group(layer, (width - layer.width * (cell + gap) + gap) / 2, r, cell))
    if legend:
        for i, (_, (label, colour)) in enumerate(LEGEND.items()):
            y = height + 4 + i * 14
            parts.append(f'<rect x="2" y="{y}" width="10" height="10" fill="{colour}"/>')
            parts.append(
                f'<text x="16" y="{y + 9}" font-size="10" font-family="sans-serif">'
                f"{escape(label)}</text>"
            )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _layer_group(layer: Layer, x0: float, row: int, cell: int, gap: int = 2) -> str:
    """One layer's boxes in a group whose `<title>` is the layer's tooltip."""
    colour = LEGEND[layer.key][1]
    title = escape(layer.title())
    boxes = [
        f'<rect x="{x0 + c * (cell + gap):.1f}" y="{gap + row * (cell + gap)}" width="{cell}" '
        f'height="{cell}" rx="2" fill="{colour}"/>'
        for c in range(layer.width)
    ]
    return f'<g class="layer" aria-label="{title}"><title>{title}</title>{"".join(boxes)}</g>'
