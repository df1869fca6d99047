"""Seconds per step and peak RSS of LoRA SFT and ORPO on the local models (CPU).

    python benchmarks/bench_training.py [--models smollm2-135m gemma3-270m] [--steps 3]

Each (model, kind) runs in a fresh subprocess so peak RSS is that run's own. Data: the first
`4 x steps` training-pool cases in the baseline agent's chat format, batch 4, max length 384;
ORPO uses style pairs. s/step is the median step time after the first (warm-up) step, as
wall-clock and as process CPU time (all threads): on a busy machine the wall figure inflates,
CPU s/step divided by the thread count is the uncontended wall time.
The figures feed `levers.training.estimate.MEASURED`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def one_run(model: str, kind: str, steps: int, batch: int) -> dict:
    from levers.config import BASELINE_AGENT
    from levers.training.data import (
        agent_prompter,
        build_sft,
        build_style_pairs,
        load_training_pool,
    )
    from levers.training.trainers import TrainConfig, train_adapter

    pool = load_training_pool(limit=batch * steps)
    prompt_for = agent_prompter(BASELINE_AGENT)
    data = build_sft(pool, prompt_for) if kind == "sft" else build_style_pairs(pool, prompt_for)
    stamps: list[float] = []
    cpu: list[float] = []

    def on_step(step: int, total: int, loss: float) -> None:
        stamps.append(time.perf_counter())
        cpu.append(time.process_time())

    started, cpu_started = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as root:
        record = train_adapter(
            kind,
            base_model=f"local:{model}",
            dataset=data,
            store_root=Path(root),
            config=TrainConfig(steps=steps, batch_size=batch, save_steps=1000),
            on_step=on_step,
        )
    times = [b - a for a, b in zip([started, *stamps], stamps, strict=False)]
    cpu_times = [b - a for a, b in zip([cpu_started, *cpu], cpu, strict=False)]
    warm, cpu_warm = times[1:] or times, cpu_times[1:] or cpu_times
    return {
        "model": f"local:{model}",
        "kind": kind,
        "batch": batch,
        "steps": steps,
        "s_per_step": round(statistics.median(warm), 2),
        "first_step_s": round(times[0], 2),
        "cpu_s_per_step": round(statistics.median(cpu_warm), 2),
        "threads": torch_threads(),
        "peak_rss_mb": record.peak_rss_mb,
        "loss": [loss for _, loss in record.loss_curve],
        "load_avg": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }


def torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["smollm2-135m"])
    parser.add_argument("--kinds", nargs="+", default=["sft", "orpo"])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--one", nargs=2, metavar=("MODEL", "KIND"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_run(args.one[0], args.one[1], args.steps, args.batch)))
        return
    rows = []
    for model in args.models:
        for kind in args.kinds:
            cmd = [
                sys.executable,
                __file__,
                "--one",
                model,
                kind,
                "--steps",
                str(args.steps),
                "--batch",
                str(args.batch),
            ]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            rows.append(json.loads(out.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), flush=True)
    print(
        f"{'model':22} {'kind':5} {'batch':>5} {'wall s/step':>11} {'CPU s/step':>10} "
        f"{'peak RSS MB':>12} {'load':>5}"
    )
    for r in rows:
        print(
            f"{r['model']:22} {r['kind']:5} {r['batch']:>5} {r['s_per_step']:>11} "
            f"{r['cpu_s_per_step']:>10} {r['peak_rss_mb']:>12} {r['load_avg']:>5}"
        )


if __name__ == "__main__":
    main()
