"""Fuzz the workspace's state files: corrupt each in turn, run the CLI, expect recovery or a
clear one-line error (never a traceback) and nothing recorded lost.

A base workspace gets two experiments and a few control commands (fake candidate and judge).
For each state file and each corruption (truncate to half, garbage bytes, delete) a fresh copy
is corrupted and `status`, `log` and `run --experiments 1` are run; an outcome is `ok` (exit 0),
`clear` (a non-zero exit with one `error:` line) or a failure (a traceback or a long message).
When `run` ends in a clear error, `run --reset-state` is tried as the way out. "Nothing
recorded lost": every experiment tag of the base still points at its commit and every record
file is there (restored from its tag when it was damaged).

    python benchmarks/fuzz_state.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from orchestrator import control  # noqa: E402
from orchestrator.loop import run_loop  # noqa: E402
from runlog.gitstore import experiment_commits  # noqa: E402
from runlog.workspace import Workspace  # noqa: E402

STATE_FILES = (
    ".autoresearch/checkpoints.sqlite",
    ".autoresearch/commit.json",
    ".autoresearch/control.jsonl",
    ".autoresearch/control.applied",
    ".autoresearch/live.json",
    ".autoresearch/live.jsonl",
    ".autoresearch/loop.lock",
    "runlog/events.jsonl",
    "runlog/results.tsv",
    "runlog/experiments/002.json",
    "runlog/outputs/002.jsonl",
    "agent/agent.toml",
    "autoresearch.toml",
)
CORRUPTIONS = ("truncate", "garbage", "delete")
COMMANDS = (("status",), ("log",), ("run", "--experiments", "1"))


def base_workspace(folder: Path) -> Path:
    root = Workspace.init(
        folder / "ws", model="fake:planner", judge="fake:judge", researcher="heuristic"
    ).main_root
    control.send(root, "note", "focus prompt")
    run_loop(root, experiments=2)
    control.send(root, "note", "a note for later")
    (root / ".autoresearch" / "commit.json").write_text('{"id": "002"}')  # as after a kill
    return root


def corrupt(path: Path, how: str, rng: random.Random) -> None:
    if how == "delete":
        path.unlink(missing_ok=True)
    elif how == "truncate":
        data = path.read_bytes() if path.exists() else b""
        path.write_bytes(data[: len(data) // 2])
    else:
        path.write_bytes(bytes(rng.randrange(256) for _ in range(512)))


def cli(ws: Path, *args: str) -> subprocess.CompletedProcess:
    code = "from orchestrator.cli import main; main()"
    # no third-party plugins: the shared environment's entry points are not under test
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    env["AUTORESEARCH_LOAD_PLUGINS"] = ""
    return subprocess.run(
        [sys.executable, "-c", code, *args, "-C", str(ws)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def outcome(result: subprocess.CompletedProcess) -> str:
    if "Traceback" in result.stderr:
        return "TRACEBACK"
    if result.returncode == 0:
        return "ok"
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    if lines and all(line.startswith("error:") for line in lines) and len(lines) <= 4:
        return "clear"
    return f"UNCLEAR ({result.returncode})"


def lost(ws: Path, tags: dict[str, str]) -> list[str]:
    """Base experiments whose tag is gone or moved, or whose record is gone from the files."""
    try:
        now = experiment_commits(Workspace(ws))
    except Exception:  # the config itself may be corrupted: read the tags with git
        out = subprocess.run(
            [
                "git",
                "-C",
                str(ws),
                "for-each-ref",
                "refs/tags/exp/",
                "--format=%(refname:strip=3) %(objectname)",
            ],
            capture_output=True,
            text=True,
        ).stdout
        now = dict(line.split() for line in out.splitlines())
    gone = [exp for exp, sha in tags.items() if now.get(exp) != sha]
    return gone + [
        e for e in tags if e not in gone and not (ws / f"runlog/experiments/{e}.json").is_file()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="Build the workspaces here and keep them.")
    args = parser.parse_args()
    rng = random.Random(0)
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="fuzz-state-") as tmp:
        folder = args.keep or Path(tmp)
        base = base_workspace(folder / "base")
        tags = experiment_commits(Workspace(base))
        rows, failures = [], 0
        for name in STATE_FILES:
            for how in CORRUPTIONS:
                ws = folder / f"{name.replace('/', '_')}-{how}"
                shutil.copytree(base, ws, symlinks=True)
                corrupt(ws / name, how, rng)
                results = [cli(ws, *command) for command in COMMANDS]
                outcomes = [outcome(r) for r in results]
                if results[-1].returncode == 2:  # the way out a clear error offers
                    reset = cli(ws, "run", "--experiments", "1", "--reset-state")
                    outcomes.append("recovered" if reset.returncode == 0 else outcome(reset))
                else:
                    outcomes.append("–")
                missing = lost(ws, tags)
                bad = [o for o in outcomes[:3] if o not in ("ok", "clear")] or missing
                failures += bool(bad)
                note = next(
                    (r.stderr.strip().splitlines()[-1] for r in results if r.returncode), ""
                )
                rows.append(
                    (name, how, *outcomes, "none" if not missing else ",".join(missing), note)
                )
                print(f"{name} {how}: {outcomes} lost={missing or 'none'}", file=sys.stderr)
                for r in results:
                    if "Traceback" in r.stderr:
                        print(r.stderr[-4000:], file=sys.stderr)
                if not args.keep:
                    shutil.rmtree(ws)
        print(
            "| file | corruption | status | log | run --experiments 1 | run --reset-state "
            "| lost | first error |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for row in rows:
            print("| " + " | ".join(str(c)[:110] for c in row) + " |")
        print(f"\n{len(rows)} cases, {failures} failures, {time.time() - started:.0f} s")
        sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
