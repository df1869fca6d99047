"""How far a workspace's numbers can be trusted, for `status` and the dashboard (issue 16).

- `keep_reliability`: the number kept beside the expected number of false keeps so far (the
  screen rule's simulated false-keep rate per A/A experiment, ruler.keep_policy, times the
  experiments compared with a best).
- `judge_reliability`: the current judge's stored calibration (`autoresearch ruler calibrate`),
  or a line saying it was never calibrated.
- `latest_recheck`: the last re-measure of the current best (winner's curse), if any.
"""

from __future__ import annotations

from typing import Any

from models.base import AutoresearchError
from ruler.calibrate import CalibrationError, load_calibration
from ruler.judges import get_judge
from ruler.keep_policy import SIMULATED_ON, expected_false_keeps, false_keep_rate
from runlog.gitstore import current_best
from runlog.workspace import Workspace

NOT_CALIBRATED = "not calibrated — run `autoresearch ruler calibrate`"


def keep_reliability(ws: Workspace) -> dict[str, Any]:
    """Kept experiments and the expected false keeps among them under the `[keep]` screen."""
    records = ws.records()
    rule = ws.config.keep.screen_rule()
    compared = sum(
        1 for r in records if r.status != "failed" and any(g.comparison for g in r.gates)
    )
    rate = false_keep_rate(rule)
    expected = expected_false_keeps(rule, compared)
    return {
        "rule": rule.label,
        "kept": sum(r.status == "kept" for r in records),
        "compared": compared,
        "false_keep_rate": rate,
        "expected_false_keeps": None if expected is None else round(expected, 2),
        "simulated_on": SIMULATED_ON if rate is not None else None,
        "text": _keep_text(rule.label, compared, rate, expected),
    }


def _keep_text(label: str, compared: int, rate: float | None, expected: float | None) -> str:
    if rate is None or expected is None:
        return f"screen {label}: false-keep rate not simulated (benchmarks/bench_keep_policy.py)"
    return (
        f"≈{expected:.2f} expected false keeps ({rate:.1%} per experiment × {compared} compared; "
        f"screen {label}, simulated {SIMULATED_ON})"
    )


def current_judge_id(ws: Workspace) -> str | None:
    """The id of the judge `[judge] spec` names for the workspace's ruler (None when it cannot
    be built here): the offline judge of a feature other than the planner is its GenericJudge."""
    from ruler.loader import load_ruler

    try:
        return get_judge(ws.config.judge.spec, ruler=load_ruler(ws.config.ruler.name)).judge_id
    except AutoresearchError:
        return None


def judge_reliability(ws: Workspace) -> dict[str, Any]:
    """The current judge's calibration figures, or why there are none."""
    judge_id = current_judge_id(ws)
    mode, ruler = ws.config.judge.mode, ws.config.ruler.name
    try:
        found = load_calibration(judge_id, mode, ruler) if judge_id else None
    except CalibrationError as exc:
        return {"judge_id": judge_id, "calibration": None, "text": str(exc)}
    if found is None:
        return {"judge_id": judge_id, "calibration": None, "text": NOT_CALIBRATED}
    text = (
        f"position consistency {found.position_consistency:.2f} · A/A flips "
        f"{found.aa_flip_rate:.2f} · length bias r={found.length_bias:+.2f} · sanity "
        f"{found.sanity_pass_rate:.0%} (calibrated {found.measured_at[:10]})"
    )
    return {"judge_id": judge_id, "calibration": found.model_dump(), "text": text}


def recheck_text(recheck: dict[str, Any] | None) -> str:
    """'re-measured 0.214 [0.19, 0.23] (was 0.221)', flagged when below the previous best."""
    if not recheck:
        return ""
    flag = " ⚠ below the previous best's interval" if recheck.get("flagged") else ""
    return (
        f"re-measured {recheck['quality']:.3f} [{recheck['low']:.3f}, {recheck['high']:.3f}] "
        f"with a fresh seed (was {recheck['was']:.3f}){flag}"
    )


def latest_recheck(ws: Workspace) -> dict[str, Any] | None:
    """The last `recheck` event of the current best (its re-measured quality and flag)."""
    best = current_best(ws)
    if best is None:
        return None
    found = [e.payload for e in ws.events("recheck") if e.payload.get("experiment") == best.id]
    return found[-1] if found else None
