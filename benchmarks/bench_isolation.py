"""What running the lever pipeline in its own process costs, per gate.

For one agent on one gate (no output cache; a judge that only parses, so judging costs nothing),
prints the wall time of: the pipeline in this process (cold: first use of the model here; warm),
and in the pipeline process (cold: a fresh worker, which imports the code and loads the model;
warm: the same agent's next gate, on the worker kept between gates).

    OMP_NUM_THREADS=1 python benchmarks/bench_isolation.py [--model local:smollm2-135m]
        [--gate dev-10] [--repeat 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from levers.config import BASELINE_AGENT
from levers.pipeline import close_pipelines, warm_worker
from models.registry import forget_models
from ruler.plan import parse_plan
from ruler.records import Verdict, dimensions_for
from runlog.evaluate import evaluate_config


class ParseJudge:
    """Judging at no cost: a usable plan ties, anything else loses."""

    judge_id = "bench:parse"
    calls = 0

    def judge_many(self, pairs, mode="standard"):
        return [
            Verdict(
                case_id=case.id,
                judge_id=self.judge_id,
                mode=mode,
                scores={d: 4 if parse_plan(text).usable else 1 for d in dimensions_for(mode)},
                outcome="T" if parse_plan(text).usable else "L",
            )
            for case, text in pairs
        ]


def worker_cpu() -> float:
    """CPU seconds (user + system) of the warm pipeline process so far; 0 when none."""
    worker = warm_worker()
    if worker is None:
        return 0.0
    fields = Path(f"/proc/{worker.process.pid}/stat").read_text().split(")")[-1]
    utime, stime = fields.split()[11:13]
    return (int(utime) + int(stime)) / os.sysconf("SC_CLK_TCK")


def gate_seconds(model: str, gate: str, isolate: bool) -> tuple[float, float]:
    """Wall seconds and CPU seconds (this process plus the pipeline process) of one gate."""
    config = BASELINE_AGENT.model_copy(update={"model": model})
    wall, cpu, child = time.perf_counter(), time.process_time(), worker_cpu()
    evaluate_config(config, gate=gate, judge=ParseJudge(), isolate=isolate)
    spent = time.process_time() - cpu + (worker_cpu() - child if isolate else 0.0)
    return time.perf_counter() - wall, spent


def measure(model: str, gate: str, repeat: int) -> dict[str, float]:
    names = ("inline_cold", "inline_warm", "isolated_cold", "isolated_warm")
    rows: dict[str, list[tuple[float, float]]] = {k: [] for k in names}
    for _ in range(repeat):
        forget_models()
        rows["inline_cold"].append(gate_seconds(model, gate, False))
        rows["inline_warm"].append(gate_seconds(model, gate, False))
        close_pipelines()
        rows["isolated_cold"].append(gate_seconds(model, gate, True))
        rows["isolated_warm"].append(gate_seconds(model, gate, True))
    close_pipelines()
    found = {}
    for name, values in rows.items():
        found[f"{name}_wall"] = round(statistics.median(v[0] for v in values), 2)
        found[f"{name}_cpu"] = round(statistics.median(v[1] for v in values), 2)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="fake:planner")
    parser.add_argument("--gate", default="dev-10")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    found = measure(args.model, args.gate, args.repeat)
    if args.json:
        print(json.dumps({"model": args.model, "gate": args.gate, **found}))
        return
    print(f"{args.model} on {args.gate}, median of {args.repeat} (seconds per gate):")
    print(f"  {'':<14} {'wall':>8} {'cpu':>8}")
    for name in ("inline_cold", "inline_warm", "isolated_cold", "isolated_warm"):
        print(f"  {name:<14} {found[name + '_wall']:8.2f} {found[name + '_cpu']:8.2f}")
    for kind in ("cold", "warm"):
        wall = found[f"isolated_{kind}_wall"] - found[f"inline_{kind}_wall"]
        cpu = found[f"isolated_{kind}_cpu"] - found[f"inline_{kind}_cpu"]
        print(f"  overhead {kind:<5} {wall:+8.2f} {cpu:+8.2f}")


if __name__ == "__main__":
    main()
