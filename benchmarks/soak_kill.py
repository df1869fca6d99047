"""Soak test of crash recovery: kill -9 the loop at random moments, resume, check consistency.

Each of N rounds starts `autoresearch run` (fake candidate and judge, so it is fast) in a
subprocess, sends a note or two through the control channel, and kills it with SIGKILL either
at a random moment or right after it enters the commit step (`record`); the next round
resumes. A last run finishes unkilled. Then the workspace must be consistent: experiment ids
contiguous, tags = records = results.tsv rows, no temporary file in any commit, every note
command logged exactly once in events.jsonl.

    python benchmarks/soak_kill.py [--runs 20] [--seed 0] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from orchestrator import control  # noqa: E402
from runlog.gitstore import experiment_commits  # noqa: E402
from runlog.results import read_results  # noqa: E402
from runlog.workspace import Workspace  # noqa: E402


def start_run(ws: Path, experiments: int) -> subprocess.Popen:
    code = "from orchestrator.cli import main; main()"
    args = ["run", "-C", str(ws), "--experiments", str(experiments), "--on-request", "deny"]
    # no third-party plugins: the shared environment's entry points are not under test
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    env["AUTORESEARCH_LOAD_PLUGINS"] = ""
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(ws: Path, proc: subprocess.Popen, offset: int, done, limit: float = 180) -> bool:
    """Poll live.jsonl until `done(events so far)` holds (True), the run ends, or `limit` s."""
    deadline, seen = time.time() + limit, []
    while time.time() < deadline and proc.poll() is None:
        events, offset = control.read_live(ws, offset)
        seen += [e for e in events if e.get("kind") in ("node", "experiment")]
        if done(seen):
            return True
        time.sleep(0.005)
    return False


def one_round(ws: Path, rng: random.Random, notes: list[str]) -> str:
    """One run killed at a random moment (counted in node transitions, so a loaded machine
    still makes progress) or inside the commit step; returns how it was killed."""
    live = ws / ".autoresearch" / "live.jsonl"
    offset = live.stat().st_size if live.exists() else 0
    proc = start_run(ws, experiments=3)
    if rng.random() < 0.5:
        notes.append(control.send(ws, "note", f"soak note {len(notes)}").id)
    if rng.random() < 0.5:
        hit = wait_for(ws, proc, offset, lambda seen: any(e.get("node") == "record" for e in seen))
        time.sleep(rng.uniform(0, 0.15))  # somewhere inside the commit step
        how = "in commit" if hit else "commit step not reached"
    else:
        steps = rng.randint(1, 20)
        wait_for(ws, proc, offset, lambda seen: len(seen) >= steps)
        time.sleep(rng.uniform(0, 0.5))
        how = "random"
    if rng.random() < 0.3:
        notes.append(control.send(ws, "note", f"soak note {len(notes)}").id)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return how
    _, err = proc.communicate()
    if proc.returncode != 0:
        return f"exited {proc.returncode}: {err.strip().splitlines()[-1:]}"
    return "finished before the kill"


def check(ws: Path, notes: list[str]) -> list[str]:
    """Every inconsistency found (none is the target)."""
    w = Workspace.open(ws)
    problems = []
    ids = w.record_ids()
    if ids != [f"{i:03d}" for i in range(1, len(ids) + 1)]:
        problems.append(f"ids not contiguous: {ids}")
    tags = sorted(experiment_commits(w))
    if tags != ids:
        problems.append(f"tags {tags} != records {ids}")
    rows = [r["id"] for r in read_results(w)]
    if rows != ids:
        problems.append(f"results.tsv rows {rows} != records {ids}")
    with w.repo() as repo:
        names = repo.git.log("--all", "--name-only", "--format=").split()
    temps = sorted({n for n in names if n.endswith(".tmp")})
    if temps:
        problems.append(f"temporary files committed: {temps}")
    logged = Counter(e.payload.get("command") for e in w.events("note"))
    for note in notes:
        if logged[note] != 1:
            problems.append(f"note command {note} logged {logged[note]} times")
    for kind in ("stop", "approved", "denied", "pause", "resume"):
        counts = Counter(
            e.payload.get("command") for e in w.events(kind) if e.payload.get("command")
        )
        problems += [f"{kind} command {c} logged {n} times" for c, n in counts.items() if n > 1]
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, help="Build the workspace here and keep it.")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="soak-kill-") as tmp:
        ws = (args.keep or Path(tmp)) / "ws"
        Workspace.init(ws, model="fake:planner", judge="fake:judge", researcher="heuristic")
        notes: list[str] = []
        kills = Counter()
        started = time.time()
        for i in range(args.runs):
            how = one_round(ws, rng, notes)
            kills[how] += 1
            print(f"round {i + 1:2d}: {how}; records {len(Workspace.open(ws).record_ids())}")
        final = start_run(ws, experiments=2)
        _, err = final.communicate()
        problems = [] if final.returncode == 0 else [f"final run exited {final.returncode}: {err}"]
        problems += check(ws, notes)
        records = len(Workspace.open(ws).record_ids())
        print()
        print(
            "| N (killed runs) | kills in commit | random kills | other | records | notes | "
            "failures |"
        )
        print("|---|---|---|---|---|---|---|")
        other = args.runs - kills["in commit"] - kills["random"]
        print(
            f"| {args.runs} | {kills['in commit']} | {kills['random']} | {other} | {records} "
            f"| {len(notes)} | {len(problems)} |"
        )
        print(f"\n{time.time() - started:.0f} s; outcomes: {dict(kills)}")
        for problem in problems:
            print(f"FAILURE: {problem}")
        sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
