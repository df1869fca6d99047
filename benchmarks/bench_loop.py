"""Orchestrator overhead per experiment: everything but model and judge calls.

Runs the real loop (LangGraph + SQLite checkpoints + git commits + caches) on a temporary
workspace with the fake candidate and the fake LLM judge, so model and judge time are near
zero, and prints wall time per experiment with its split by node.

    python benchmarks/bench_loop.py [--experiments 8] [--judge fake:judge] [--model fake:planner]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from orchestrator.loop import run_loop  # noqa: E402
from orchestrator.researchers.heuristic import HeuristicResearcher  # noqa: E402
from runlog.workspace import Workspace  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=8)
    parser.add_argument("--model", default="fake:planner")
    parser.add_argument("--judge", default="fake:judge")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-loop-") as tmp:
        root = Workspace.init(
            Path(tmp) / "ws", model=args.model, judge=args.judge, researcher="heuristic"
        ).main_root
        started = time.perf_counter()
        # no plateau, so no training request waits for a supervisor mid-benchmark
        summary = run_loop(
            root, experiments=args.experiments, researcher=HeuristicResearcher(plateau_after=10_000)
        )
        wall = time.perf_counter() - started
        records = summary.experiments
        per_node: dict[str, list[float]] = {}
        overhead = []
        for record in records:
            for node, seconds in record.node_seconds.items():
                per_node.setdefault(node, []).append(seconds)
            nodes = sum(s for n, s in record.node_seconds.items() if n not in ("model", "judge"))
            overhead.append(
                nodes
                - record.node_seconds.get("model", 0.0)
                - record.node_seconds.get("judge", 0.0)
            )
    print(
        f"{len(records)} experiments in {wall:.1f} s ({wall / len(records):.2f} s each, "
        f"model {args.model}, judge {args.judge}; dashboard and start-up included)"
    )
    print(
        f"orchestrator overhead per experiment (nodes minus model and judge time): "
        f"median {statistics.median(overhead):.2f} s, max {max(overhead):.2f} s"
    )
    print("per-node median seconds:")
    for node, values in sorted(per_node.items(), key=lambda kv: -statistics.median(kv[1])):
        print(f"  {node:18} {statistics.median(values):7.3f}")


if __name__ == "__main__":
    main()
