"""Gates per hour: lever workers forked from the fork server against spawned ones.

Per-gate wall time on a real model (no output cache; a judge that only parses, so the figure is
the pipeline's), in the order the research loop meets them, from cold:

- `stock, first`: the stock agent's first gate (spawn: a worker starts and loads the model;
  fork: the server starts and loads it, then a child is forked);
- `stock, next agent`: another agent of installed code only (spawn: the warm worker is
  re-prepared for it; fork: a fresh child);
- `lever file, 1st` and `2nd`: agents with a lever file of their own, which every prompt
  variant the heuristic writes is (spawn: a fresh worker, the model loaded again; fork: a
  child).

Each mode runs `--repeat` times, alternating; the outputs of both modes are compared (greedy
decoding: the same text). With `--main-job`, the README's main job (`autoresearch init` and
`run --experiments 6`) also runs once per mode, and experiments per hour are printed. Run it from
a checkout no one edits meanwhile: a gate is failed when the judge's source changes under it.

    OMP_NUM_THREADS=1 python benchmarks/bench_gates.py [--model local:smollm2-135m]
        [--gate dev-10] [--repeat 2] [--main-job] [--json]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from levers.config import BASELINE_AGENT, LeverSpec
from levers.forkserver import FORKSERVER_ENV, close_servers
from levers.pipeline import close_pipelines, warm_worker
from runlog.evaluate import evaluate_config

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_isolation import ParseJudge  # noqa: E402

MODES = {"spawn": "off", "fork": "auto"}
LEVER_FILE = '''
from pydantic import BaseModel, ConfigDict

from levers import Lever, hookimpl


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BenchNoop(Lever):
    """Changes nothing: it only makes the agent one with a lever file of its own."""

    name = "bench_noop"
    lever_class = "other"
    Params = Params


@hookimpl
def register_levers(register):
    register(BenchNoop)
'''


def lever_file_agent(folder: Path) -> Path:
    """An agent folder with one lever file (a new folder each time: a new agent)."""
    (folder / "levers").mkdir(parents=True)
    (folder / "levers" / "bench_noop.py").write_text(LEVER_FILE)
    return folder


def timed_gate(config, gate: str, agent_dir: Path | None) -> tuple[float, str, str]:
    """Wall seconds of one gate, the worker's kind, and a digest of its outputs."""
    started = time.perf_counter()
    run = evaluate_config(config, gate=gate, judge=ParseJudge(), agent_dir=agent_dir)
    seconds = time.perf_counter() - started
    worker = warm_worker()
    kind = type(worker.process).__name__ if worker is not None else "?"
    digest = hashlib.sha256(json.dumps([r.text for r in run.runs]).encode()).hexdigest()[:12]
    return seconds, kind, digest


def gate_sequence(model: str, gate: str, mode: str, scratch: Path) -> dict[str, tuple]:
    """The four gates from cold, under `mode` (spawn or fork)."""
    os.environ[FORKSERVER_ENV] = MODES[mode]
    close_pipelines()
    close_servers()
    stock = BASELINE_AGENT.model_copy(update={"model": model})
    other = stock.model_copy(update={"description": "the stock agent, another agent"})
    with_file = stock.model_copy(
        update={"levers": [*stock.levers, LeverSpec(name="bench_noop", params={})]}
    )
    found = {
        "stock, first": timed_gate(stock, gate, None),
        "stock, next agent": timed_gate(other, gate, None),
    }
    for n in (1, 2):
        folder = Path(tempfile.mkdtemp(dir=scratch, prefix=f"{mode}-agent{n}-"))
        found[f"lever file, {n}"] = timed_gate(with_file, gate, lever_file_agent(folder))
    close_pipelines()
    close_servers()
    return found


def main_job(mode: str, scratch: Path, experiments: int) -> dict[str, float | int | str]:
    """`autoresearch init` and `run --experiments N` (the README's main job) under `mode`."""
    cli = str(Path(sys.executable).parent / "autoresearch")
    env = {**os.environ, FORKSERVER_ENV: MODES[mode]}
    folder = scratch / f"job-{mode}"
    started = time.perf_counter()
    subprocess.run([cli, "init", str(folder)], env=env, check=True, capture_output=True)
    ran = time.perf_counter()
    run = [cli, "run", "-C", str(folder), "--experiments", str(experiments)]
    subprocess.run(run, env=env, check=True, capture_output=True)
    done = time.perf_counter()
    with open(folder / "runlog" / "results.tsv") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    qualities = [float(r["quality"]) for r in rows if r["gate"] == "full-30" and r["quality"]]
    return {
        "experiments": len(rows),
        "failed": sum(r["status"] == "failed" for r in rows),
        "init_s": round(ran - started, 1),
        "run_s": round(done - ran, 1),
        "per_hour": round(len(rows) / (done - started) * 3600, 1),
        "best_full30": max(qualities) if qualities else "",
        "statuses": " ".join(r["status"] for r in rows),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="local:smollm2-135m")
    parser.add_argument("--gate", default="dev-10")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--main-job", action="store_true")
    parser.add_argument("--experiments", type=int, default=6)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-gates-"))
    load = [os.getloadavg()[0]]
    rows: dict[str, dict[str, list[float]]] = {m: {} for m in MODES}
    digests: dict[str, set[str]] = {m: set() for m in MODES}
    kinds: dict[str, set[str]] = {m: set() for m in MODES}
    try:
        for _ in range(args.repeat):
            for mode in MODES:
                for name, (seconds, kind, digest) in gate_sequence(
                    args.model, args.gate, mode, scratch
                ).items():
                    print(f"{mode} · {name}: {seconds:.1f}s ({kind})", file=sys.stderr)
                    rows[mode].setdefault(name, []).append(round(seconds, 2))
                    digests[mode].add(digest)
                    kinds[mode].add(kind)
                load.append(os.getloadavg()[0])
        jobs = {}
        if args.main_job:
            for mode in MODES:
                jobs[mode] = main_job(mode, scratch, args.experiments)
                print(f"main job, {mode}: {jobs[mode]}", file=sys.stderr)
                load.append(os.getloadavg()[0])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    found = {
        "model": args.model,
        "gate": args.gate,
        "gates_s": rows,
        "same_outputs": digests["spawn"] == digests["fork"] and len(digests["fork"]) == 1,
        "kinds": {m: sorted(k) for m, k in kinds.items()},
        "main_job": jobs,
        "load": [round(x, 2) for x in load],
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    if args.json:
        print(json.dumps(found, indent=2))
        return
    print(f"{args.model} · {args.gate} · load {found['load']} · {found['date']}")
    print(f"{'gate':<20} {'spawn (median s)':>18} {'fork (median s)':>16}")
    for name in rows["spawn"]:
        spawn, fork = statistics.median(rows["spawn"][name]), statistics.median(rows["fork"][name])
        print(f"{name:<20} {spawn:>18.1f} {fork:>16.1f}")
    print(f"same outputs in both modes: {found['same_outputs']} · workers: {found['kinds']}")
    for mode, job in jobs.items():
        print(f"main job, {mode}: {job}")


if __name__ == "__main__":
    main()
