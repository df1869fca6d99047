"""The attacks of tests/integrity/, measured: what each would gain with its protection off, and
what it gets with it on (fake planner candidate, offline judge, one fresh workspace each).

    python benchmarks/bench_integrity.py [--json]

Rows: the gate's quality for a clean agent (baseline), then per attack the quality (or the
failure) with the protection switched off and on.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ruler.judges import get_judge  # noqa: E402
from ruler.loader import load_ruler  # noqa: E402
from runlog.evaluate import workspace_verdict_cache  # noqa: E402
from runlog.workspace import Workspace  # noqa: E402
from tests.integrity import test_answer_key, test_record  # noqa: E402
from tests.integrity.conftest import cheat_lever, evaluate, install  # noqa: E402


def fresh() -> Workspace:
    root = Path(tempfile.mkdtemp(prefix="bench-integrity-")) / "ws"
    return Workspace.init(root, model="fake:planner", judge="embedding")


def outcome(run: Callable[[], Any]) -> str:
    try:
        return f"{run().result.quality:.3f}"
    except Exception as exc:  # noqa: BLE001 (a gate that fails closed is the row's answer)
        return f"failed: {type(exc).__name__}: {str(exc).splitlines()[0][:80]}"


def off(env: dict[str, str]) -> Callable[[], None]:
    def undo() -> None:
        for key in env:
            os.environ.pop(key, None)

    os.environ.update(env)
    return undo


def gold_attack(judge, unsandboxed: bool) -> str:
    ws = fresh()
    install(ws, test_answer_key.gold_reader(test_answer_key.READERS["open"]))
    undo = off({"AUTORESEARCH_UNSANDBOXED": "1"} if unsandboxed else {})
    try:
        return outcome(lambda: evaluate(ws, judge))
    finally:
        undo()


def verdict_attack(judge, unsandboxed: bool, mac: str) -> str:
    ws = fresh()
    workspace_verdict_cache(ws)
    (ws.agent_dir / "levers").mkdir(exist_ok=True)
    test_record.same_text_everywhere(ws)
    ws.agent_path.write_text(ws.agent_path.read_text() + '\n[[levers]]\nname = "fixed"\n')
    install(ws, test_record.planter(ws, judge.judge_id, mac=mac))
    undo = off({"AUTORESEARCH_UNSANDBOXED": "1"} if unsandboxed else {})
    try:
        pinned = workspace_verdict_cache(ws).pinned()
        outcome(lambda: evaluate(ws, judge, verdict_cache=pinned))
        return outcome(lambda: evaluate(ws, judge, gate="full-30", verdict_cache=pinned))
    finally:
        undo()


def key_attack(judge, scrub: bool) -> str:
    ws = fresh()
    install(ws, cheat_lever(test_record.LEAK_KEY))
    os.environ["ANTHROPIC_API_KEY"] = "sk-ant-bench-secret"
    import levers.sandbox as sandbox

    honest = sandbox.scrubbed_env
    if not scrub:
        sandbox.scrubbed_env = lambda env: dict(env)  # type: ignore[assignment]
    try:
        run = evaluate(ws, judge)
        return "key in the output" if "sk-ant-bench-secret" in run.runs[0].text else "no key"
    finally:
        sandbox.scrubbed_env = honest  # type: ignore[assignment]
        os.environ.pop("ANTHROPIC_API_KEY", None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    judge = get_judge("embedding", ruler=load_ruler())
    judge.prepare()
    rows = {
        "baseline dev-10": outcome(lambda: evaluate(fresh(), judge)),
        "read the gold, sandbox off": gold_attack(judge, True),
        "read the gold, sandbox on": gold_attack(judge, False),
        "baseline full-30 (fixed answer)": "",
        "plant forged verdicts, sandbox off": verdict_attack(judge, True, "0" * 64),
        "plant unsigned verdicts, sandbox off": verdict_attack(judge, True, ""),
        "plant verdicts, sandbox on": verdict_attack(judge, False, "0" * 64),
        "read the API key, environment passed": key_attack(judge, False),
        "read the API key, environment scrubbed": key_attack(judge, True),
    }
    ws = fresh()
    (ws.agent_dir / "levers").mkdir(exist_ok=True)
    test_record.same_text_everywhere(ws)
    ws.agent_path.write_text(ws.agent_path.read_text() + '\n[[levers]]\nname = "fixed"\n')
    rows["baseline full-30 (fixed answer)"] = outcome(lambda: evaluate(ws, judge, gate="full-30"))
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    width = max(map(len, rows))
    for name, value in rows.items():
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
