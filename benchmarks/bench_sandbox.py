"""What the lever sandbox costs per gate, on a real model.

For one agent on one gate (no output cache; a judge that only parses, so judging costs nothing),
alternates cold gates (a fresh pipeline process that applies its sandbox, loads the model and
runs the cases) with the sandbox on (Landlock here) and off (`--unsandboxed`), and prints the
median wall time of each and the difference as a share of the gate. It also times the parts
the sandbox adds, alone: drawing the policy (parent) and applying it (child, Landlock).

    OMP_NUM_THREADS=1 python benchmarks/bench_sandbox.py [--model local:smollm2-135m]
        [--gate dev-10] [--repeat 3] [--json]
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

from levers.config import BASELINE_AGENT
from levers.pipeline import close_pipelines
from levers.sandbox import UNSANDBOXED_ENV, describe, policy_for
from runlog.evaluate import evaluate_config

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_isolation import ParseJudge  # noqa: E402


def gate_seconds(model: str, gate: str, sandboxed: bool) -> tuple[float, str]:
    """A cold gate's wall time, and what confined it."""
    if sandboxed:
        os.environ.pop(UNSANDBOXED_ENV, None)
    else:
        os.environ[UNSANDBOXED_ENV] = "1"
    close_pipelines()  # a fresh worker: the sandbox is applied once per process
    config = BASELINE_AGENT.model_copy(update={"model": model})
    started = time.perf_counter()
    run = evaluate_config(config, gate=gate, judge=ParseJudge())
    return time.perf_counter() - started, run.extra["sandbox"]


def policy_seconds(repeat: int = 20) -> float:
    """Drawing the allow-list in the parent (walks the folders that hide the ruler)."""
    started = time.perf_counter()
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as scratch:
            policy_for(Path(scratch))
    return (time.perf_counter() - started) / repeat


APPLY = """
import json, sys, time
from pathlib import Path
from levers.landlock import restrict_self
from levers.sandbox import policy_for
policy = policy_for(Path(sys.argv[1]))
rules = len(policy.landlock_rules())
started = time.perf_counter()
restrict_self(policy.landlock_rules())
print(json.dumps({"seconds": time.perf_counter() - started, "rules": rules}))
"""


def apply_seconds() -> dict[str, float]:
    """Applying the policy in a child (Landlock: one ruleset, a rule per allowed path)."""
    with tempfile.TemporaryDirectory() as scratch:
        cmd = [sys.executable, "-c", APPLY, scratch]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="local:smollm2-135m")
    parser.add_argument("--gate", default="dev-10")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    gate_seconds(args.model, args.gate, True)  # warm the disk cache and the converted weights
    rows: dict[str, list[float]] = {"sandboxed": [], "unsandboxed": []}
    kinds: dict[str, str] = {}
    for _ in range(args.repeat):
        for name, on in (("sandboxed", True), ("unsandboxed", False)):
            seconds, kind = gate_seconds(args.model, args.gate, on)
            rows[name].append(seconds)
            kinds[name] = kind
    os.environ.pop(UNSANDBOXED_ENV, None)
    on, off = statistics.median(rows["sandboxed"]), statistics.median(rows["unsandboxed"])
    parts = {"policy_s": policy_seconds(), **apply_seconds()}
    found = {
        "model": args.model,
        "gate": args.gate,
        "sandbox": describe(),
        "kinds": kinds,
        "sandboxed_s": rows["sandboxed"],
        "unsandboxed_s": rows["unsandboxed"],
        "median_sandboxed_s": round(on, 2),
        "median_unsandboxed_s": round(off, 2),
        "overhead_share": round((on - off) / off, 4),
        "added_s": round(parts["policy_s"] + parts["seconds"], 4),
        "added_share": round((parts["policy_s"] + parts["seconds"]) / off, 5),
        "rules": parts["rules"],
        "load": os.getloadavg()[0],
    }
    if args.json:
        print(json.dumps(found, indent=2))
        return
    print(f"{args.model} · {args.gate} · {found['sandbox']} · load {found['load']:.2f}")
    print(f"cold gate, median of {args.repeat}: sandboxed {on:.2f}s, unsandboxed {off:.2f}s")
    print(f"difference {on - off:+.2f}s ({found['overhead_share']:+.1%} of the gate; noise-bound)")
    print(
        f"what the sandbox adds, timed alone: policy {parts['policy_s'] * 1000:.1f} ms + "
        f"Landlock {parts['seconds'] * 1000:.2f} ms ({parts['rules']} rules) = "
        f"{found['added_share']:.3%} of the gate"
    )


if __name__ == "__main__":
    main()
