"""Winner's curse: the new best re-measured with a fresh seed every `[keep] recheck_every`
kept experiments, when the agent samples or the judge is stochastic."""

from __future__ import annotations

import time
from typing import Any

from levers.config import AgentConfig
from models import AutoresearchError
from orchestrator.gates import one_line
from ruler.calibrate import CalibrationError, load_calibration
from runlog.evaluate import (
    evaluate_config,
    resolve_judge,
    workspace_ruler,
)
from runlog.workspace import Workspace


class Recheck:
    """The services' re-measure of the best (mixed into `WorkspaceServices`)."""

    ws: Workspace

    def recheck_best(self) -> dict[str, Any] | None:
        """Winner's curse: every `[keep] recheck_every` kept experiments, when the agent samples
        or the judge is stochastic, the new best is run again on its deciding gate with a fresh
        seed and no output cache; a `recheck` event records both figures, flagged when the
        re-measure falls below the previous best's interval."""
        keep, best = self.ws.config.keep, self.ws.current_best()
        kept = [r for r in self.ws.records() if r.status == "kept"]
        due = best is not None and len(kept) > 1 and kept[-1].id == best.id
        if not (due and keep.recheck_every and (len(kept) - 1) % keep.recheck_every == 0):
            return None
        config = AgentConfig.model_validate(best.record.agent)
        loaded = workspace_ruler(self.ws)
        judge = resolve_judge(self.ws.config.judge.spec, loaded)
        if not stochastic(config, judge_flip_rate(self.ws, judge.judge_id)):
            return None
        shown = best.record.result
        if shown is None:
            return None
        # a fresh seed: the local backend seeds 0 when none is given; Anthropic cannot seed
        # sampling (it refuses a seed) but samples afresh anyway
        seed = None if config.model.startswith("anthropic:") else time.time_ns() % 2**31
        decoding = config.decoding.model_copy(update={"seed": seed})
        fresh = evaluate_config(
            config.model_copy(update={"decoding": decoding}),
            gate=shown.gate,
            judge=judge,
            mode=self.ws.config.judge.mode,
            ruler=loaded,
            workspace=self.root,
            agent_dir=self.ws.agent_dir,  # the best's lever files: the work tree is the best now
        ).result
        previous = kept[-2].result
        flagged = previous is not None and fresh.quality < previous.interval.low
        payload = {
            "experiment": best.id,
            "gate": shown.gate,
            "seed": seed,
            "quality": fresh.quality,
            "low": fresh.interval.low,
            "high": fresh.interval.high,
            "was": shown.quality,
            "previous_best": kept[-2].id,
            "previous_low": previous.interval.low if previous else None,
            "flagged": flagged,
        }
        self.ws.append_event("recheck", payload)
        self.emit("recheck", **payload)
        return payload

    def _recheck_safely(self) -> None:
        try:
            self.recheck_best()
        except (AutoresearchError, ValueError) as exc:
            self.record_event("error", text=f"re-measuring the best failed: {one_line(exc)}")


def stochastic(config: AgentConfig, judge_flips: float | None) -> bool:
    """Does a re-run give other numbers: the agent samples (temperature > 0, in its decoding or
    a decoding lever) or the judge's calibration measured A/A flips (the offline judge and
    the LLM judges at temperature 0 count as deterministic until a calibration says not)."""
    temps = [config.decoding.temperature] + [
        float(s.params.get("temperature") or 0)
        for s in config.enabled_levers()
        if s.name == "decoding"
    ]
    return max(temps) > 0 or bool(judge_flips)


def judge_flip_rate(ws: Workspace, judge_id: str) -> float | None:
    """The judge's measured A/A flip rate (`ruler calibrate`), None when never measured."""
    try:
        found = load_calibration(judge_id, ws.config.judge.mode, ws.config.ruler.name)
    except CalibrationError:
        return None
    return found.aa_flip_rate if found else None
