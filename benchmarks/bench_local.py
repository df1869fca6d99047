"""Benchmark the default on-device candidate, local:smollm2-135m, on this machine's CPU.

Prints: cold load (GGUF -> fp32 conversion into a temporary AUTORESEARCH_HOME, then load),
warm load (from the converted folder), tokens/s for one prompt, tokens/s for a batch of ten
prompts, and the peak resident memory of the process.

    python benchmarks/bench_local.py [--max-tokens 64] [--batch 10] [--threads N] [--json]

Wall-clock figures depend on what else the machine runs; the load average before and after
and the tokens per CPU-second say how much they do.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time

TASKS = [
    "plan a trip to Paris",
    "organize a wedding for 80 guests",
    "start a vegetable garden on a balcony",
    "move to Berlin with two kids",
    "learn to play the piano as an adult",
    "renovate a small kitchen",
    "launch a podcast about local history",
    "train for a first marathon",
    "adopt a rescue dog",
    "host a board game night for colleagues",
    "write a family cookbook",
    "switch careers into data analysis",
]


def messages_for(task: str) -> list:
    from models import Message

    text = f"I want to {task}. Before you make a plan, what seven questions would you ask me?"
    return [Message(role="user", content=text)]


def peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes vs KiB


def timed(fn):
    """(result, wall seconds, CPU seconds of this process) of fn()."""
    started, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - started, time.process_time() - cpu


def cold_load(home: str):
    """Convert the GGUF into an empty AUTORESEARCH_HOME, then load the converted folder."""
    from models.backends.local import LocalModel, converted_dir

    os.environ["AUTORESEARCH_HOME"] = home
    converted_dir("smollm2-135m")
    return LocalModel("smollm2-135m").load()


def run(max_tokens: int, batch_size: int, threads: int | None) -> dict[str, float | int | str]:
    import torch
    import transformers  # noqa: F401 - imported before timing: loads measure the model only

    from models import GenerationOptions
    from models.backends.local import LocalModel

    if threads:
        torch.set_num_threads(threads)
    options = GenerationOptions(max_tokens=max_tokens)
    figures: dict[str, float | int | str] = {
        "model": "local:smollm2-135m",
        "cpu_count": os.cpu_count() or 0,
        "torch_threads": torch.get_num_threads(),
        "load_average_1m_before": round(os.getloadavg()[0], 2),
    }
    with tempfile.TemporaryDirectory(prefix="autoresearch-bench-") as home:
        _, wall, cpu = timed(lambda: cold_load(home))
        figures["cold_load_s"] = round(wall, 2)
        figures["cold_load_cpu_s"] = round(cpu, 2)
        warm = LocalModel("smollm2-135m")
        _, wall, cpu = timed(warm.load)
        figures["warm_load_s"] = round(wall, 2)

        warm.generate(messages_for("say hello"), GenerationOptions(max_tokens=4))  # warm-up
        single, wall, cpu = timed(lambda: warm.generate(messages_for(TASKS[0]), options))
        figures["single_output_tokens"] = single.output_tokens
        figures["single_tokens_per_s"] = round(single.output_tokens / wall, 1)
        figures["single_tokens_per_cpu_s"] = round(single.output_tokens / cpu, 1)

        prompts = [messages_for(TASKS[i % len(TASKS)]) for i in range(batch_size)]
        batch, wall, cpu = timed(lambda: warm.generate_batch(prompts, options))
        tokens = sum(c.output_tokens for c in batch)
        figures["batch_size"] = batch_size
        figures["batch_output_tokens"] = tokens
        figures["batch_s"] = round(wall, 2)
        figures["batch_tokens_per_s"] = round(tokens / wall, 1)
        figures["batch_tokens_per_cpu_s"] = round(tokens / cpu, 1)
    figures["peak_rss_mib"] = round(peak_rss_mib(), 0)
    figures["load_average_1m_after"] = round(os.getloadavg()[0], 2)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    figures = run(args.max_tokens, args.batch, args.threads)
    if args.json:
        print(json.dumps(figures))
        return
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
