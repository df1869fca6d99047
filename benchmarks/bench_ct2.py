"""The ct2 backend (CTranslate2 int8) against the torch backend, on the same SmolLM2 weights.

    python benchmarks/bench_ct2.py [--gate dev-10] [--repeat 1] [--json]

For each agent (the stock agent; rag + info_gain, the main job's best, four calls per case),
one `autoresearch eval --no-cache` per backend on a fresh workspace: the wall time of the whole
command (worker start, load, generate, judge) and the quality, so the speed-up and the change
in quality are read side by side. Run it on a quiet machine; the load is printed with each row.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

AGENTS = {
    "stock": [],
    "rag + info_gain": [
        {"name": "rag", "params": {"k": 2, "method": "embedding"}},
        {"name": "info_gain"},
    ],
}
MODELS = ("local:smollm2-135m", "ct2:smollm2-135m")
CLI = [str(Path(sys.executable).parent / "autoresearch")]


def agent_toml(levers: list[dict]) -> str:
    lines = [
        'model = "local:smollm2-135m"',
        "[decoding]",
        "temperature = 0.0",
        "max_tokens = 220",
        "[[levers]]",
        'name = "prompt"',
    ]
    for lever in levers:
        lines += ["[[levers]]", f'name = "{lever["name"]}"']
        if lever.get("params"):
            lines.append("[levers.params]")
            lines += [f"{k} = {json.dumps(v)}" for k, v in lever["params"].items()]
    return "\n".join(lines) + "\n"


def evaluate(workspace: Path, agent: Path, model: str, gate: str) -> dict:
    started = time.perf_counter()
    out = subprocess.run(
        [
            *CLI,
            "eval",
            "-C",
            str(workspace),
            "--agent",
            str(agent),
            "--model",
            model,
            "--gate",
            gate,
            "--no-cache",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout)
    return {
        "wall": time.perf_counter() - started,
        "quality": result["quality"],
        "failed": len(result.get("failed_cases") or []),
        "load": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gate", default="dev-10")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp) / "ws"
        subprocess.run([*CLI, "init", str(workspace)], check=True, capture_output=True)
        for label, levers in AGENTS.items():
            folder = Path(tmp) / label.replace(" ", "")
            folder.mkdir()
            (folder / "agent.toml").write_text(agent_toml(levers))
            for _ in range(args.repeat):
                for model in MODELS:
                    row = {
                        "agent": label,
                        "model": model,
                        **evaluate(workspace, folder / "agent.toml", model, args.gate),
                    }
                    rows.append(row)
                    print(
                        f"{label:>16} {model:>20} {row['wall']:7.1f} s  quality "
                        f"{row['quality']:.3f}  failed {row['failed']}  load {row['load']:.1f}",
                        flush=True,
                    )
    if args.json:
        print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
