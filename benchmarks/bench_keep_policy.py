"""Choose the screen rule by simulation: A/A and planted-gain experiments from real case scores.

Reads the per-case quality of every experiment in one or more workspaces (runlog/experiments/
*.json; an experiment's full-30 scores where it ran, else its dev-10 ones) into a pool per case,
then simulates experiments with `ruler.keep_policy.simulate`: per case the best's and the
candidate's quality are drawn independently from that case's pool (an A/A pair: different
outputs, no real change) and a planted gain is added to the candidate's. Prints per screen rule:
share promoted to full-30, false keeps per A/A experiment, keep rate per planted gain, and mean
cases generated and judged per experiment (10 on dev-10, plus 20 when promoted: full-30 reuses
the dev-10 cases' outputs and verdicts from the caches). Then, for the default screen, the
decisive gate's futility stop per threshold (`[keep] futility`): the share stopped halfway,
the false stops (stopped, but every case would have kept it), the keep rates and the cases.

    python benchmarks/bench_keep_policy.py -C /tmp/kp [-C more ...] [--experiments 1000]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ruler.keep_policy import (  # noqa: E402
    RECOMMENDED_SCREEN,
    ScreenRule,
    SimulationResult,
    screen,
    simulate,
)
from ruler.loader import load_ruler  # noqa: E402

RULES = (
    ScreenRule(),
    *(ScreenRule(kind="permutation", alpha=a) for a in (0.05, 0.1, 0.2, 0.3)),
    *(ScreenRule(kind="bootstrap", tau=t) for t in (0.8, 0.9, 0.95)),
)
GAINS = (0.0, 0.02, 0.04)
FUTILITY = (0.0, 0.02, 0.05, 0.1, 0.2)


def load_pool(workspaces: list[Path]) -> tuple[dict[str, list[float]], int]:
    """Per case, one quality per experiment that judged it; and the number of experiments."""
    pool: dict[str, list[float]] = defaultdict(list)
    count = 0
    for ws in workspaces:
        files = sorted((ws / "runlog" / "experiments").glob("*.json"))
        if not files:
            raise SystemExit(f"{ws}: no runlog/experiments/*.json; run `autoresearch run` there")
        for path in files:
            record = json.loads(path.read_text(encoding="utf-8"))
            per_case: dict[str, float] = {}
            for gate in record.get("gates", []):  # dev-10 first, then full-30 over it
                per_case.update(gate.get("per_case_quality", {}))
            count += bool(per_case)
            for cid, q in per_case.items():
                pool[cid].append(float(q))
    return dict(pool), count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-C", "--workspace", type=Path, action="append", required=True)
    parser.add_argument("--experiments", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    ruler = load_ruler()
    dev, full = ruler.splits["dev-10"], ruler.splits["full-30"]
    pool, n_exp = load_pool(args.workspace)
    missing = sorted(set(full) - set(pool))
    if missing:
        raise SystemExit(f"no per-case scores for {', '.join(missing)}: run experiments to full-30")
    spread = [np.std(pool[c]) for c in full]
    print(
        f"pool: {n_exp} experiments, {np.mean([len(pool[c]) for c in full]):.1f} scores per case,"
        f" mean per-case s.d. {np.mean(spread):.3f}; {args.experiments} simulated experiments each"
    )
    header = f"{'screen rule':28} {'promoted A/A':>12} {'false keep A/A':>14} {'cases A/A':>9}"
    header += "".join(f" {'keep +' + format(g, '.2f'):>10}" for g in GAINS[1:])
    header += f" {'cases +0.04':>11}"
    print(header)
    table = {}
    for rule in RULES:
        runs = {
            g: simulate(pool, dev, full, rule, gain=g, experiments=args.experiments, seed=args.seed)
            for g in GAINS
        }
        aa = runs[0.0]
        line = f"{rule.label:28} {aa.promoted:12.1%} {aa.kept:14.1%} {aa.mean_cases:9.1f}"
        line += "".join(f" {runs[g].kept:10.1%}" for g in GAINS[1:])
        print(line + f" {runs[0.04].mean_cases:11.1f}", flush=True)
        table[rule] = runs
    print(recommend(table))
    futility_table(pool, dev, full, args.experiments, args.seed)
    replay(args.workspace)


def futility_table(
    pool: dict[str, list[float]], dev: list[str], full: list[str], experiments: int, seed: int
) -> None:
    """The default screen with the decisive gate's futility stop at each threshold."""
    print(f"futility stop, screen {RECOMMENDED_SCREEN.label}:")
    print(
        f"{'futility':>8} {'stopped A/A':>11} {'cases A/A':>9}"
        + "".join(f" {'kept +' + format(g, '.2f'):>10} {'false stop':>10}" for g in GAINS[1:])
        + f" {'cases +0.04':>11}"
    )
    for threshold in FUTILITY:
        runs = {
            g: simulate(
                pool,
                dev,
                full,
                RECOMMENDED_SCREEN,
                gain=g,
                experiments=experiments,
                seed=seed,
                futility=threshold,
            )  # fmt: skip
            for g in GAINS
        }
        aa = runs[0.0]
        line = f"{threshold:8g} {aa.stopped:11.1%} {aa.mean_cases:9.1f}"
        line += "".join(f" {runs[g].kept:10.1%} {runs[g].false_stops:10.1%}" for g in GAINS[1:])
        print(line + f" {runs[0.04].mean_cases:11.1f}", flush=True)


def replay(workspaces: list[Path]) -> None:
    """Each recorded experiment's real dev-10 deltas through today's screen and the others."""
    deltas = []
    for ws in workspaces:
        for path in sorted((ws / "runlog" / "experiments").glob("*.json")):
            record = json.loads(path.read_text(encoding="utf-8"))
            dev = next((g for g in record.get("gates", []) if g["gate"] == "dev-10"), None)
            if dev and dev.get("comparison"):
                deltas.append(list(dev["comparison"]["per_case_delta"].values()))
    if not deltas:
        return
    print(f"replayed on the {len(deltas)} recorded experiments' dev-10 deltas: promoted")
    for rule in RULES:
        promoted = sum(screen(d, rule).promote for d in deltas)
        print(f"  {rule.label:28} {promoted}/{len(deltas)}")


def recommend(table: dict[ScreenRule, dict[float, SimulationResult]]) -> str:
    """The rule with the best keep rates among those meeting the target: at most 5% false keeps
    per A/A experiment and at least 30% fewer A/A cases than today's rule."""
    today = table[ScreenRule()][0.0].mean_cases
    fits = [
        rule
        for rule, runs in table.items()
        if runs[0.0].kept <= 0.05 and runs[0.0].mean_cases <= 0.7 * today
    ]
    if not fits:
        return "no rule meets the target (<= 5% false keeps, >= 30% fewer cases)"
    best = max(fits, key=lambda r: tuple(table[r][g].kept for g in GAINS[1:]))
    saved = 1 - table[best][0.0].mean_cases / today
    return f"recommended: {best.label} ({saved:.0%} fewer cases per A/A experiment than today)"


if __name__ == "__main__":
    main()
