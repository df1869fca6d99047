"""Researchers side by side: random search, the heuristic and Optuna's TPE, same start, same budget.

One fresh workspace runs its baseline once; each researcher then runs `--experiments` more
from its own copy of it (the baseline and its cached outputs shared), unattended (no plateau
training requests), or with `--trainings N` asking for training at its plateaus, the first
request approved with a budget of N (as `run --on-request approve --trainings N`). Printed per
researcher: the best full-30 quality with its 95% interval, the gain over the baseline's
full-30, how many experiments it took to reach that best, and wall time; then the best full-30
quality by minute of the run.

    OMP_NUM_THREADS=1 python benchmarks/bench_research.py [--experiments 12]
        [--model local:smollm2-135m] [--judge embedding] [--minutes M] [--trainings N]
        [--parallel] [--keep DIR]
    python benchmarks/bench_research.py --report DIR   # the tables of a kept (or unfinished) run
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from orchestrator.control import TrainingGrant  # noqa: E402
from orchestrator.loop import run_loop  # noqa: E402
from orchestrator.researchers.base import Researcher  # noqa: E402
from orchestrator.researchers.heuristic import HeuristicResearcher  # noqa: E402
from orchestrator.researchers.optuna import OptunaResearcher  # noqa: E402
from orchestrator.researchers.random_search import RandomResearcher  # noqa: E402
from runlog.workspace import Workspace  # noqa: E402

NEVER = 10**6  # plateau_after: an unattended benchmark asks for no training
RESEARCHERS = ("random", "heuristic", "optuna")
RUN_STATE = ("checkpoints.sqlite", "checkpoints.sqlite-wal", "checkpoints.sqlite-shm", "live.json")


@dataclass
class Row:
    researcher: str
    experiments: int
    best_id: str
    quality: float
    low: float
    high: float
    gain: float
    reached_at: int
    seconds: float
    best_dev: float | None  # the best keep-gate (dev-10) quality of its own experiments


def researcher(name: str, root: Path, seed: int, trains: bool) -> Researcher:
    plateau = {} if trains else {"plateau_after": NEVER}  # its own default plateau, or none
    if name == "random":
        return RandomResearcher(seed=seed, **plateau)
    if name == "heuristic":
        return HeuristicResearcher(**plateau)
    return OptunaResearcher(root, seed=seed, **plateau)


def fresh_copy(template: Path, target: Path) -> Path:
    """The template workspace with its records and caches but no loop state of its own."""
    shutil.copytree(template, target)
    for name in RUN_STATE:
        (target / ".autoresearch" / name).unlink(missing_ok=True)
    (target / ".autoresearch" / "live.jsonl").write_text("")
    return target


def full_quality(ws: Workspace, exp_id: str, gate: str) -> tuple[float, float, float] | None:
    result = next((g for g in ws.record(exp_id).gates if g.gate == gate), None)
    return (result.quality, result.interval.low, result.interval.high) if result else None


def run_one(
    name: str, root: Path, experiments: int, seed: int, minutes: float | None, trainings: int
) -> Row:
    started = time.perf_counter()
    run_loop(
        root,
        experiments=experiments,
        minutes=minutes,
        researcher=researcher(name, root, seed, trains=trainings > 0),
        on_request="approve" if trainings else "deny",
        grant=TrainingGrant(trainings=trainings) if trainings else None,
    )
    return summarize(name, root, time.perf_counter() - started)


def summarize(name: str, root: Path, seconds: float | None = None) -> Row:
    """A researcher's row from its workspace; without `seconds`, its records' wall time."""
    ws = Workspace.open(root, repair=False)
    if seconds is None:
        seconds = sum(r.wall_seconds for r in ws.records()[1:])
    gate = ws.config.keep.confirm_gate or ws.config.keep.gate
    ids = ws.record_ids()
    baseline = full_quality(ws, ids[0], gate)
    best = ws.current_best()
    figures = full_quality(ws, best.id, gate) if best else None
    if baseline is None or figures is None or best is None:
        raise SystemExit(f"{name}: no {gate} result for the baseline or the best")
    quality, low, high = figures
    devs = [g.quality for r in ws.records()[1:] for g in r.gates if g.gate == ws.config.keep.gate]
    return Row(
        name,
        len(ids) - 1,
        best.id,
        quality,
        low,
        high,
        quality - baseline[0],
        ids.index(best.id),  # experiments after the baseline (0: the baseline stayed best)
        seconds,
        max(devs, default=None),
    )


def best_by_minute(root: Path, marks: list[int]) -> list[float]:
    """The best full-30 quality `m` minutes into a researcher's run, for each mark: the
    baseline's, then each kept experiment's from when it finished (the run starts when its
    first experiment does)."""
    ws = Workspace.open(root, repair=False)
    gate = ws.config.keep.confirm_gate or ws.config.keep.gate
    baseline, *own = ws.records()
    best = [(baseline.finished_at, full_quality(ws, baseline.id, gate))]
    best += [(r.finished_at, full_quality(ws, r.id, gate)) for r in own if r.status == "kept"]
    start = own[0].started_at if own else baseline.finished_at
    return [max(q[0] for at, q in best if q and at <= start + timedelta(minutes=m)) for m in marks]


def minute_table(roots: dict[str, Path], marks: list[int]) -> str:
    lines = [
        "| researcher | " + " | ".join(f"{m} min" for m in marks) + " |",
        "|---|" + "---:|" * len(marks),
    ]
    for name, root in roots.items():
        figures = best_by_minute(root, marks)
        lines.append(f"| {name} | " + " | ".join(f"{q:.3f}" for q in figures) + " |")
    return "\n".join(lines)


def minute_marks(roots: list[Path]) -> list[int]:
    """Every 5 minutes up to the longest run's own wall time (at least one mark)."""
    longest = 0.0
    for root in roots:
        records = Workspace.open(root, repair=False).records()[1:]
        if records:
            longest = max(
                longest, (records[-1].finished_at - records[0].started_at).total_seconds()
            )
    return list(range(5, 5 * max(math.ceil(longest / 300), 1) + 1, 5))


def baseline_figures(ws: Workspace) -> tuple[float, float, float]:
    gate = ws.config.keep.confirm_gate or ws.config.keep.gate
    figures = full_quality(ws, ws.record_ids()[0], gate)
    if figures is None:
        raise SystemExit(f"the baseline has no {gate} result")
    return figures


def table(rows: list[Row], baseline: tuple[float, float, float]) -> str:
    lines = [
        f"baseline full-30 quality {baseline[0]:.3f} [{baseline[1]:.3f}, {baseline[2]:.3f}]",
        f"{'researcher':<10} {'exps':>4} {'best':>4} {'full-30 [95% CI]':>24} "
        f"{'gain':>7} {'reached':>7} {'wall':>8} {'best dev-10':>11}",
    ]
    for r in rows:
        lines.append(
            f"{r.researcher:<10} {r.experiments:>4} {r.best_id:>4} "
            f"{r.quality:>8.3f} [{r.low:.3f}, {r.high:.3f}] {r.gain:>+7.3f} "
            f"{r.reached_at:>7} {r.seconds / 60:>6.1f}m "
            + (f"{r.best_dev:>11.3f}" if r.best_dev is not None else f"{'-':>11}")
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=12, help="per researcher")
    parser.add_argument("--model", default="local:smollm2-135m")
    parser.add_argument("--judge", default="embedding", help="the offline judge by default")
    parser.add_argument("--researchers", default=",".join(RESEARCHERS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--minutes", type=float, help="also stop each researcher after this many minutes"
    )
    parser.add_argument(
        "--trainings",
        type=int,
        default=0,
        help="ask for training at plateaus; the first request is approved with this budget",
    )
    parser.add_argument("--parallel", action="store_true", help="one process per researcher")
    parser.add_argument("--keep", type=Path, help="keep the workspaces in this new folder")
    parser.add_argument(
        "--report", type=Path, help="only print the table of a --keep folder (runs nothing)"
    )
    args = parser.parse_args()
    names = [n.strip() for n in args.researchers.split(",") if n.strip()]
    if unknown := set(names) - set(RESEARCHERS):
        parser.error(f"unknown researcher(s) {', '.join(sorted(unknown))}; use {RESEARCHERS}")
    if args.report:
        roots = {n: args.report / n for n in names if (args.report / n).is_dir()}
        rows = [summarize(n, root) for n, root in roots.items()]
        ws = Workspace.open(args.report / "baseline", repair=False)
        print("(wall: the recorded experiments' own wall time; in-flight ones not counted)")
        print(table(rows, baseline_figures(ws)))
        print(minute_table(roots, minute_marks(list(roots.values()))))
        return
    with tempfile.TemporaryDirectory(prefix="bench-research-") as tmp:
        base = args.keep or Path(tmp)
        template = Workspace.init(base / "baseline", model=args.model, judge=args.judge).main_root
        started = time.perf_counter()
        run_loop(template, experiments=1, researcher=HeuristicResearcher(plateau_after=NEVER))
        print(f"baseline ran in {time.perf_counter() - started:.0f} s", flush=True)
        roots = [fresh_copy(template, base / name) for name in names]
        jobs = [
            (n, r, args.experiments, args.seed, args.minutes, args.trainings)
            for n, r in zip(names, roots, strict=True)
        ]
        if args.parallel:
            with ProcessPoolExecutor(len(jobs)) as pool:
                rows = list(pool.map(run_one, *zip(*jobs, strict=True)))
        else:
            rows = [run_one(*job) for job in jobs]
        baseline = baseline_figures(Workspace.open(template))
        print(
            f"{args.model}, judge {args.judge}, {args.experiments} experiments each "
            f"after a shared baseline{' (in parallel)' if args.parallel else ''}"
            + (f", at most {args.minutes:g} minutes each" if args.minutes else "")
            + (f", a training budget of {args.trainings}" if args.trainings else "")
        )
        print(table(rows, baseline))
        print(minute_table(dict(zip(names, roots, strict=True)), minute_marks(roots)))


if __name__ == "__main__":
    main()
