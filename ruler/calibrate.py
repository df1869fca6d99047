"""How far a judge can be trusted: position consistency, A/A flips, length bias, sanity pass rate.

`calibrate` judges every case's gold plan and its sanity variants (ruler.sanity) twice, the
same inputs both times, and measures:

- position_consistency: share of verdicts whose pairwise answer agreed across both orders of
  the sets (an order-free judge, like the offline one, is 1.0 by construction);
- aa_flip_rate: share of inputs whose verdict (outcome or any score) changed between the two
  identical judgings (0 for a deterministic judge);
- length_bias: Pearson correlation between a question set's length (words) and its per-case
  quality over gold and variants (the variants differ in length on purpose, so compare
  judges, not the absolute value);
- sanity_pass_rate: share of sanity checks passed over all perturbations (first judging).

Figures are stored as JSON under `$AUTORESEARCH_HOME/calibration/` (default
~/.cache/autoresearch), one file per judge id, mode and ruler; `load_calibration` reads them
back for `status` and the dashboard.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from models.base import AutoresearchError
from ruler.quality import per_case_quality
from ruler.records import Case, JudgeMode, Verdict
from ruler.sanity import SanityReport, run_sanity


class CalibrationError(AutoresearchError):
    """A stored calibration cannot be read."""


class Calibration(BaseModel):
    """One judge's reliability figures on one ruler and mode."""

    model_config = ConfigDict(extra="forbid")

    judge_id: str
    mode: JudgeMode
    ruler: str
    ruler_hash: str
    cases: int
    verdicts: int  # per judging: gold plus variants for every case
    position_consistency: float
    aa_flip_rate: float
    length_bias: float
    sanity_pass_rate: float
    sanity: dict[str, float]  # pass rate per perturbation
    measured_at: str
    seconds: float


class RecordingJudge:
    """Forwards to a judge and keeps every (input text, verdict) it returned."""

    def __init__(self, judge) -> None:
        self.judge = judge
        self.judge_id = judge.judge_id
        self.seen: list[tuple[str, Verdict]] = []

    @property
    def calls(self) -> int:
        return self.judge.calls

    def judge_many(self, pairs: list[tuple[Case, str]], mode: JudgeMode = "standard"):
        verdicts = self.judge.judge_many(pairs, mode)
        self.seen += [(text, v) for (_, text), v in zip(pairs, verdicts, strict=True)]
        return verdicts


def calibration_dir() -> Path:
    home = Path(os.environ.get("AUTORESEARCH_HOME", Path.home() / ".cache" / "autoresearch"))
    return home / "calibration"


def calibration_path(judge_id: str, mode: JudgeMode = "standard", ruler: str = "planner") -> Path:
    """One file per judge id, mode and ruler; the id is made filename-safe."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{judge_id}__{mode}__{ruler}")
    return calibration_dir() / f"{safe}.json"


def differs(a: Verdict, b: Verdict) -> bool:
    return a.outcome != b.outcome or a.scores != b.scores


def length_bias(seen: list[tuple[str, Verdict]]) -> float:
    """Pearson r between each judged text's length in words and its per-case quality."""
    lengths = np.array([len(text.split()) for text, _ in seen], dtype=float)
    scores = np.array([per_case_quality(v) for _, v in seen])
    if len(seen) < 3 or lengths.std() == 0 or scores.std() == 0:
        return 0.0
    return float(np.corrcoef(lengths, scores)[0, 1])


def sanity_rate(report: SanityReport) -> float:
    total = sum(r.total for r in report.results)
    return sum(r.passed for r in report.results) / total if total else 0.0


def calibrate(
    judge,
    cases: list[Case],
    mode: JudgeMode = "standard",
    *,
    ruler: str,
    ruler_hash: str,
    feature=None,
    degraded: list[dict] | None = None,
) -> Calibration:
    """Judge gold and sanity variants twice and compute the four figures (module docstring);
    for a feature other than the planner, its own sanity suite (ruler.feature_sanity)."""
    started = dt.datetime.now(dt.UTC)
    first, second = RecordingJudge(judge), RecordingJudge(judge)
    report = run_sanity(first, cases, mode, feature=feature, degraded=degraded)
    run_sanity(second, cases, mode, feature=feature, degraded=degraded)
    pairs = list(zip(first.seen, second.seen, strict=True))
    verdicts = [v for _, v in first.seen] + [v for _, v in second.seen]
    return Calibration(
        judge_id=judge.judge_id,
        mode=mode,
        ruler=ruler,
        ruler_hash=ruler_hash,
        cases=len(cases),
        verdicts=len(first.seen),
        position_consistency=sum(v.position_consistent for v in verdicts) / len(verdicts),
        aa_flip_rate=sum(differs(a, b) for (_, a), (_, b) in pairs) / len(pairs),
        length_bias=length_bias(first.seen),
        sanity_pass_rate=sanity_rate(report),
        sanity={
            (f"{r.name}:{r.dimension}" if report.lower_rates else r.name): r.rate
            for r in report.results
        },
        measured_at=started.isoformat(timespec="seconds"),
        seconds=(dt.datetime.now(dt.UTC) - started).total_seconds(),
    )


def save_calibration(calibration: Calibration) -> Path:
    """Write atomically to calibration_path(...); returns the path."""
    path = calibration_path(calibration.judge_id, calibration.mode, calibration.ruler)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(calibration.model_dump_json(indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def load_calibration(
    judge_id: str, mode: JudgeMode = "standard", ruler: str = "planner"
) -> Calibration | None:
    """The stored figures for a judge id (None when it was never calibrated)."""
    path = calibration_path(judge_id, mode, ruler)
    if not path.is_file():
        return None
    try:
        return Calibration.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as exc:
        raise CalibrationError(
            f"{path}: unreadable calibration ({exc.error_count()} errors); "
            f"rerun `autoresearch ruler calibrate --judge ...`"
        ) from None
