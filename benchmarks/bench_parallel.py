"""Experiments per hour with `--parallel K` on a local Ray, and the scaling against K = 1.

Latency-bound work: the fake candidate answering after `--latency` seconds a call
(`fake:planner@0.2`), the fake judge, on a local Ray started with `ray.init(num_cpus=8)`.
Every K runs the same experiments, all of one cost: one worked example in the prompt, drawn
with a new seed each time (`Sweep`; the fake judge scores every answer alike, so none is kept
and the best never moves; the heuristic's moves would mix in RAG, whose embedding model makes
an experiment CPU-bound). The rate counts the experiments after the baseline, from the
baseline's commit to the last commit, so Ray's start-up and the workers' first imports are
outside it (both are reported).

`--real` adds the real `local:smollm2-135m` at K = 1 and K = 2 (CPU-bound: on a 2-core machine
little gain is expected); `OMP_NUM_THREADS=1` per worker.

    python benchmarks/bench_parallel.py [--experiments 16] [--latency 0.2] [--ks 1,2,4,8] [--real]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from orchestrator.loop import run_loop  # noqa: E402
from orchestrator.pool.options import PoolOptions  # noqa: E402
from orchestrator.researchers.base import LogView, Proposal  # noqa: E402
from runlog.workspace import Workspace  # noqa: E402


class Sweep:
    """Experiments of one cost: the baseline, then one worked example with seed 1, 2, …"""

    name = "sweep"

    def propose(self, log: LogView, notes: list[str]) -> Proposal:
        if not log.experiments:
            return Proposal(hypothesis="Baseline", lever_class="baseline")
        seed = len(log.experiments)  # the experiments in flight count: each seed once
        prompt = {"name": "prompt", "params": {"few_shot": 1, "few_shot_seed": seed}}
        return Proposal(
            hypothesis=f"One worked example, seed {seed}",
            lever_class="prompt",
            agent_patch={"levers": [prompt]},
        )

    def repair(self, proposal: Proposal, report: str) -> Proposal | None:
        return None


def measure(model: str, experiments: int, k: int | None) -> dict[str, float]:
    """One run of `experiments` (+ the baseline) at parallelism `k` (None: the default loop)."""
    with tempfile.TemporaryDirectory(prefix="bench-parallel-") as tmp:
        root = Workspace.init(
            Path(tmp) / "ws", model=model, judge="fake:judge", researcher="heuristic"
        ).main_root
        started = time.perf_counter()
        summary = run_loop(
            root,
            experiments=experiments + 1,
            researcher=Sweep(),
            parallel=PoolOptions(k, local=False) if k else None,
        )
        wall = time.perf_counter() - started
        records = summary.experiments
        span = (records[-1].finished_at - records[0].finished_at).total_seconds()
        failed = sum(r.status == "failed" for r in records)
    return {
        "n": len(records) - 1,
        "span": span,
        "per_hour": (len(records) - 1) / span * 3600,
        "wall": wall,
        "failed": failed,
    }


def table(title: str, rows: list[tuple[str, dict[str, float]]], base: float) -> None:
    print(f"\n{title}")
    print(f"{'K':>12} {'exps':>5} {'span s':>8} {'exps/hour':>10} {'× K=1':>7} {'wall s':>7}")
    for label, r in rows:
        print(
            f"{label:>12} {r['n']:>5} {r['span']:>8.1f} {r['per_hour']:>10.0f} "
            f"{r['per_hour'] / base:>7.2f} {r['wall']:>7.1f}"
            + (f"  ({r['failed']} failed)" if r["failed"] else "")
        )


def fake(args: argparse.Namespace) -> None:
    model = f"fake:planner@{args.latency:g}"
    ks = [int(k) for k in args.ks.split(",")]
    sequential = measure(model, args.experiments, None)
    rows = [(f"K={k}", measure(model, args.experiments, k)) for k in ks]
    base = next((r for label, r in rows if label == "K=1"), sequential)["per_hour"]
    table(
        f"{model} (0 judge latency), {args.experiments} experiments after the baseline",
        [("default loop", sequential), *rows],
        base,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--ks", default="1,2,4,8")
    parser.add_argument("--cpus", type=int, default=8, help="ray.init(num_cpus=...)")
    parser.add_argument("--real", action="store_true", help="also local:smollm2-135m, K=1,2")
    parser.add_argument("--real-experiments", type=int, default=2)
    args = parser.parse_args()
    import ray

    os.environ.setdefault("OMP_NUM_THREADS", "1")  # inherited by the workers
    started = time.perf_counter()
    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
    print(f"ray.init(num_cpus={args.cpus}) in {time.perf_counter() - started:.1f} s")
    if args.ks:  # --ks '' --real: the real model alone
        fake(args)
    if args.real:
        real = [(f"K={k}", measure("local:smollm2-135m", args.real_experiments, k)) for k in (1, 2)]
        table(
            f"local:smollm2-135m, fake judge, {args.real_experiments} experiments after the "
            f"baseline, {os.cpu_count()} cores",
            real,
            real[0][1]["per_hour"],
        )
    ray.shutdown()


if __name__ == "__main__":
    main()
