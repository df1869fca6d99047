"""`try_agent`'s worker, run in a subprocess: an agent folder on up to three training-pool tasks.

    python -m orchestrator.research.trial AGENT_DIR N JUDGE RULER

Loads AGENT_DIR/agent.toml (with its levers/, a researcher's draft among them), runs it on the
first N training-pool cases (never ruler cases) with the agent's own model, judges each output
with JUDGE, and prints one JSON line: per task the output, scores and rationale, and the cost.
A subprocess keeps a draft lever's imports out of the loop's interpreter.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def trial(agent_dir: Path, n: int, judge_spec: str, ruler_name: str) -> dict:
    from levers.config import load_agent
    from levers.runner import run_agent
    from levers.training.data import load_training_pool
    from ruler.judges import get_judge
    from ruler.loader import load_ruler

    config = load_agent(agent_dir / "agent.toml")
    cases = load_training_pool(limit=n)
    runs = run_agent(config, cases, workspace=agent_dir.parent)
    judge = get_judge(judge_spec, ruler=load_ruler(ruler_name))
    verdicts = judge.judge_many([(c, r.text) for c, r in zip(cases, runs, strict=True)])
    model_cost = sum(node.cost_usd or 0.0 for r in runs for node in r.trace)
    return {
        "model": config.model,
        "judge": judge_spec,
        "cases": [
            {
                "task": case.task,
                "output": run.text,
                "error": run.error,
                "scores": verdict.scores,
                "outcome_vs_gold": verdict.outcome,
                "rationale": verdict.rationale,
            }
            for case, run, verdict in zip(cases, runs, verdicts, strict=True)
        ],
        "cost_usd": round(model_cost + sum(v.cost_usd for v in verdicts), 6),
    }


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(
            "usage: python -m orchestrator.research.trial AGENT_DIR N JUDGE RULER", file=sys.stderr
        )
        return 2
    print(json.dumps(trial(Path(argv[0]), int(argv[1]), argv[2], argv[3]), default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
