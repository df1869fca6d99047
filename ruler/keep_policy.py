"""The keep policy as pure statistics over per-case quality deltas (candidate minus best).

An experiment is judged on a cheap screen gate (dev-10); only a promising one goes on to the
decisive gate (full-30, whose cases include the screen's, so only the rest are generated and
judged), where it is kept when the paired gain clears `min_delta`. `ScreenRule` says what
"promising" means:

- `interval` (the rule before issue 16): the 95% bootstrap interval of the mean gain reaches
  above zero. At n = 10 that is nearly always true, so the screen saves nothing.
- `permutation`: the mean gain is above zero and a one-sided paired sign-flip permutation test
  (exact up to 16 cases) gives p < `alpha`.
- `bootstrap`: the mean gain is above zero and the bootstrap probability of improvement (share
  of resampled means above zero) is at least `tau`.

`simulate` resamples per-case scores of real outputs to estimate a rule's promotion, false-keep
and keep rates and its cost in cases; `benchmarks/bench_keep_policy.py` prints the table. On a
real 6-experiment run of the README's main job (SmolLM2, offline judge, 2026-11-29; 1000
simulated experiments each) today's screen promoted 95% of A/A experiments (3.4% false keeps,
29.0 cases each); `permutation` with alpha 0.3 promoted 24% (3.1% false keeps, 14.8 cases:
49% fewer) and kept a +0.04 gain 82% of the time (today 89%): RECOMMENDED_SCREEN.

The decisive gate can stop early for futility: halfway through the cases it has to generate,
`keep_chance` estimates the probability that the experiment will be kept once every case is in
(each completion of the missing cases drawn from a resample of the deltas so far), and below
`[keep] futility` the gate stops there and the experiment is discarded. `simulate` measures the
false stops (stopped, but it would have been kept) with the rest.

The loop's keep decision lives here alone: `promising` (worth the decisive gate: the screen rule
on the keep gate's comparison with the best) and `decide` (kept or discarded, and why), called
by the driver at every K and by `eval --compare`. No orchestrator imports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ruler.quality import bootstrap_interval
from ruler.records import GateResult

EXACT_MAX = 16  # sign-flip test: exact enumeration up to 2**16 assignments
MONTE_CARLO = 20000
BOOTSTRAP_N = 2000  # as ruler.quality.compare


class ScreenRule(BaseModel):
    """When the screen gate's result is promising enough to pay for the decisive gate."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["interval", "permutation", "bootstrap"] = "interval"
    alpha: float = Field(0.2, gt=0, le=1, description="permutation: one-sided p must be below")
    tau: float = Field(0.8, ge=0, le=1, description="bootstrap: P(improvement) must reach")

    @property
    def label(self) -> str:
        if self.kind == "permutation":
            return f"mean>0 & perm p<{self.alpha:g}"
        if self.kind == "bootstrap":
            return f"mean>0 & P(gain)>={self.tau:g}"
        return "interval high>0 (today)"


RECOMMENDED_SCREEN = ScreenRule(kind="permutation", alpha=0.3)

# Simulated false-keep rate per A/A experiment (no real change), per screen rule, from
# benchmarks/bench_keep_policy.py on the README's main job (6 real SmolLM2 experiments,
# offline judge, 1000 simulated experiments each, decisive rule "interval", min_delta 0).
SIMULATED_ON = "2026-11-29"
FALSE_KEEP_RATES: dict[ScreenRule, float] = {
    ScreenRule(kind="interval"): 0.034,
    ScreenRule(kind="permutation", alpha=0.05): 0.008,
    ScreenRule(kind="permutation", alpha=0.1): 0.014,
    ScreenRule(kind="permutation", alpha=0.2): 0.024,
    RECOMMENDED_SCREEN: 0.031,
    ScreenRule(kind="bootstrap", tau=0.8): 0.029,
    ScreenRule(kind="bootstrap", tau=0.9): 0.021,
    ScreenRule(kind="bootstrap", tau=0.95): 0.013,
}


def false_keep_rate(rule: ScreenRule) -> float | None:
    """The simulated false-keep rate per A/A experiment of `rule` (None: never simulated)."""
    return FALSE_KEEP_RATES.get(rule.model_copy(update=_unused_defaults(rule)))


def _unused_defaults(rule: ScreenRule) -> dict[str, float]:
    """A rule's parameters that its kind does not read, reset to their defaults (so a
    permutation rule with any tau is the same table entry)."""
    base = ScreenRule()
    if rule.kind == "interval":
        return {"alpha": base.alpha, "tau": base.tau}
    return {"tau": base.tau} if rule.kind == "permutation" else {"alpha": base.alpha}


def expected_false_keeps(rule: ScreenRule, experiments: int) -> float | None:
    """Experiments so far times the rule's simulated false-keep rate (None: not simulated)."""
    rate = false_keep_rate(rule)
    return None if rate is None else rate * experiments


class ScreenResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    promote: bool
    mean: float
    statistic: float  # interval: upper bound; permutation: p; bootstrap: P(improvement)
    why: str


@lru_cache(maxsize=EXACT_MAX + 1)
def _signs(n: int) -> np.ndarray:
    """Every +-1 assignment of n cases, shape (2**n, n)."""
    codes = np.arange(2**n)[:, None] >> np.arange(n)[None, :]
    return np.where(codes & 1, -1.0, 1.0)


def permutation_p(deltas: Sequence[float], seed: int = 0) -> float:
    """One-sided paired sign-flip test of mean gain > 0: share of sign flips whose mean is at
    least the observed one (exact up to EXACT_MAX cases, else MONTE_CARLO seeded draws)."""
    values = np.asarray(deltas, dtype=float)
    if values.size == 0:
        return 1.0
    if values.size <= EXACT_MAX:
        signs = _signs(values.size)
    else:
        rng = np.random.default_rng(seed)
        signs = rng.choice([-1.0, 1.0], size=(MONTE_CARLO, values.size))
    flipped = (signs * values).mean(axis=1)
    return float(np.mean(flipped >= values.mean() - 1e-12))


def prob_improvement(deltas: Sequence[float], seed: int = 0, n: int = BOOTSTRAP_N) -> float:
    """Share of bootstrap resamples (cases, seeded) whose mean gain is above zero."""
    values = np.asarray(deltas, dtype=float)
    if values.size == 0:
        return 0.0
    idx = np.random.default_rng(seed).integers(0, values.size, size=(n, values.size))
    return float(np.mean(values[idx].mean(axis=1) > 1e-12))


def screen(deltas: Sequence[float], rule: ScreenRule, seed: int = 0) -> ScreenResult:
    """Is the screen gate's paired gain (per-case deltas) promising under `rule`?"""
    mean = float(np.mean(deltas)) if len(deltas) else 0.0
    if rule.kind == "interval":
        high = bootstrap_interval(list(deltas), seed=seed, n=BOOTSTRAP_N).high
        ok = high > 0
        why = f"interval of the gain reaches {high:+.3f} ({'>' if ok else '<='} 0)"
        return ScreenResult(promote=ok, mean=mean, statistic=high, why=why)
    if rule.kind == "permutation":
        p = permutation_p(deltas, seed)
        ok = mean > 0 and p < rule.alpha
        why = f"mean gain {mean:+.3f}, one-sided paired p={p:.3f} (needs > 0 and < {rule.alpha:g})"
        return ScreenResult(promote=ok, mean=mean, statistic=p, why=why)
    prob = prob_improvement(deltas, seed)
    ok = mean > 0 and prob >= rule.tau
    why = f"mean gain {mean:+.3f}, P(improvement)={prob:.2f} (needs > 0 and >= {rule.tau:g})"
    return ScreenResult(promote=ok, mean=mean, statistic=prob, why=why)


def keep(
    deltas: Sequence[float],
    policy: Literal["interval", "mean"] = "interval",
    min_delta: float = 0.0,
    seed: int = 0,
) -> bool:
    """The decisive gate's rule, as `decide` applies it: the paired bootstrap lower
    bound (policy 'interval') or the mean gain (policy 'mean') must be above min_delta."""
    if policy == "mean":
        return float(np.mean(deltas)) > min_delta
    return bootstrap_interval(list(deltas), seed=seed, n=BOOTSTRAP_N).low > min_delta


COMPLETIONS = 200  # keep_chance: simulated completions of the missing cases
INNER_BOOTSTRAP = 500  # keep_chance: resamples of each completion's lower bound
FUTILITY = 0.05  # the default `[keep] futility`: see benchmarks/README.md


def keep_chance(
    deltas: Sequence[float],
    remaining: int,
    policy: Literal["interval", "mean"] = "interval",
    min_delta: float = 0.0,
    seed: int = 0,
    completions: int = COMPLETIONS,
) -> float:
    """The probability that `keep` passes once `remaining` more cases are in: the share of
    completions that pass, each drawing the missing deltas from a resample of those so far (so
    the uncertainty of their mean is in the draw). Vectorized: every completion's bootstrap
    uses the same resample indices."""
    values = np.asarray(deltas, dtype=float)
    if values.size == 0:
        return 0.0
    if remaining <= 0:
        return float(keep(values, policy, min_delta, seed))
    rng = np.random.default_rng(seed)
    population = values[rng.integers(0, values.size, size=(completions, values.size))]
    future = np.take_along_axis(
        population, rng.integers(0, values.size, size=(completions, remaining)), axis=1
    )
    full = np.concatenate([np.broadcast_to(values, population.shape), future], axis=1)
    if policy == "mean":
        return float(np.mean(full.mean(axis=1) > min_delta))
    idx = rng.integers(0, full.shape[1], size=(INNER_BOOTSTRAP, full.shape[1]))
    means = full[:, idx].mean(axis=2)  # (completions, resamples)
    low = np.percentile(means, 2.5, axis=1)  # the 95% interval's lower bound, as `keep`
    return float(np.mean(low > min_delta))


def futile(
    deltas: Sequence[float],
    remaining: int,
    threshold: float,
    policy: Literal["interval", "mean"] = "interval",
    min_delta: float = 0.0,
) -> str:
    """Why the decisive gate should stop now ('' to go on): the chance of a keep once the
    `remaining` cases are in is below `threshold` (0 never stops)."""
    if threshold <= 0 or remaining <= 0 or not len(deltas):
        return ""
    chance = keep_chance(deltas, remaining, policy, min_delta)
    if chance >= threshold:
        return ""
    return (
        f"futile after {len(deltas)} cases: mean gain {float(np.mean(deltas)):+.3f}, "
        f"P(kept once {remaining} more are in) {chance:.2f} < {threshold:g}"
    )


class Futility(BaseModel):
    """What a decisive gate needs to stop early: the best's per-case quality on the gate, the
    keep rule, and the threshold on the chance of a keep."""

    model_config = ConfigDict(extra="forbid")

    best: dict[str, float]
    threshold: float = Field(gt=0, lt=1)
    policy: Literal["interval", "mean"] = "interval"
    min_delta: float = 0.0

    def check(self, quality: Mapping[str, float], remaining: int) -> str:
        """Why to stop, given the candidate's per-case quality so far ('' to go on)."""
        deltas = [q - self.best[c] for c, q in quality.items() if c in self.best]
        return futile(deltas, remaining, self.threshold, self.policy, self.min_delta)


def screen_dev(dev: GateResult, rule: ScreenRule = RECOMMENDED_SCREEN) -> ScreenResult | None:
    """The screen gate's verdict under `rule` on its per-case deltas (None: nothing to compare)."""
    cmp = dev.comparison
    if cmp is None:
        return None
    if not cmp.per_case_delta:  # a comparison stored without its deltas: its interval only
        ok = cmp.interval.high > 0
        why = f"interval of the gain reaches {cmp.interval.high:+.3f}"
        return ScreenResult(promote=ok, mean=cmp.delta, statistic=cmp.interval.high, why=why)
    return screen(list(cmp.per_case_delta.values()), rule)


def promising(dev: GateResult, rule: ScreenRule = RECOMMENDED_SCREEN) -> bool:
    """Worth the decisive gate: the screen rule passes on the keep gate's per-case deltas."""
    result = screen_dev(dev, rule)
    return result is None or result.promote


def decide(
    dev: GateResult,
    full: GateResult | None,
    *,
    baseline: bool,
    policy: str,
    min_delta: float,
    rule: ScreenRule = RECOMMENDED_SCREEN,
) -> tuple[str, str]:
    """Kept or discarded, and why, from the gate results' comparisons with the best."""
    if baseline:
        return "kept", "baseline: the first experiment of a workspace is the line's start"
    if full is not None and full.stopped:
        return "discarded", f"{full.gate} stopped early: {full.stopped}"
    if full is None:
        screened = screen_dev(dev, rule)
        why = (
            f"{dev.gate} screen ({rule.label}) not passed: {screened.why}"
            if screened
            else f"no comparable best on {dev.gate}"
        )
        return "discarded", why
    cmp = full.comparison
    if cmp is None:  # never kept on nothing: a best without a comparable result loses its claim
        return "discarded", f"no comparable best on {full.gate}: nothing to compare with"
    bound = cmp.interval.low if policy == "interval" else cmp.delta
    verdict = "kept" if bound > min_delta else "discarded"
    what = "lower bound of the paired gain" if policy == "interval" else "mean paired gain"
    return verdict, (
        f"{full.gate}: {what} {bound:+.3f} {'>' if verdict == 'kept' else '<='} "
        f"{min_delta:+.3f} (Δ {cmp.delta:+.3f}, 95% [{cmp.interval.low:+.3f}, "
        f"{cmp.interval.high:+.3f}], sign test p={cmp.sign_test_p:.2f})"
    )


class SimulationResult(BaseModel):
    """A rule's simulated behaviour over many experiments with one planted gain."""

    model_config = ConfigDict(extra="forbid")

    rule: str
    gain: float
    experiments: int
    promoted: float  # share that went on to the decisive gate
    kept: float  # share kept (a false keep when gain == 0)
    mean_cases: float  # cases generated and judged per experiment
    stopped: float = 0.0  # share whose decisive gate stopped early for futility
    false_stops: float = 0.0  # share stopped that all the cases would have kept


def before_look(todo: int) -> int:
    """Of the `todo` cases the decisive gate has to generate, how many run before the futility
    look (the first half; the cases it shares with the screen are known already)."""
    return (todo + 1) // 2


def simulate(
    pool: Mapping[str, Sequence[float]],
    screen_ids: Sequence[str],
    decisive_ids: Sequence[str],
    rule: ScreenRule,
    *,
    gain: float = 0.0,
    experiments: int = 1000,
    seed: int = 0,
    policy: Literal["interval", "mean"] = "interval",
    min_delta: float = 0.0,
    futility: float = 0.0,
) -> SimulationResult:
    """Simulated experiments: per case, the best's and the candidate's quality are drawn
    independently from that case's pool of real per-case scores (an A/A pair: different
    outputs, no real change) and `gain` is added to the candidate's. The screen sees the
    screen cases' deltas; a promoted experiment is kept or not on all decisive cases, unless
    `futility` stops it at the look (`before_look`)."""
    missing = sorted((set(screen_ids) | set(decisive_ids)) - set(pool))
    if missing:
        raise ValueError(f"no per-case scores for cases {', '.join(missing)}")
    ids = list(dict.fromkeys([*screen_ids, *decisive_ids]))
    screened = set(screen_ids)
    later = [c for c in decisive_ids if c not in screened]
    left = len(later) - before_look(len(later))
    rng = np.random.default_rng(seed)
    promoted = kept = stopped = false_stops = 0
    cases = 0
    for _ in range(experiments):
        deltas = {cid: float(rng.choice(pool[cid]) - rng.choice(pool[cid]) + gain) for cid in ids}
        cases += len(screen_ids)
        if not screen([deltas[c] for c in screen_ids], rule).promote:
            continue
        promoted += 1
        would = keep([deltas[c] for c in decisive_ids], policy, min_delta)
        seen = [deltas[c] for c in decisive_ids if c in screened] + [
            deltas[c] for c in later[: len(later) - left]
        ]
        if futility and futile(seen, left, futility, policy, min_delta):
            stopped += 1
            false_stops += would
            cases += len(later) - left
            continue
        cases += len(later)
        kept += would
    return SimulationResult(
        rule=rule.label + (f", futility {futility:g}" if futility else ""),
        gain=gain,
        experiments=experiments,
        promoted=promoted / experiments,
        kept=kept / experiments,
        mean_cases=cases / experiments,
        stopped=stopped / experiments,
        false_stops=false_stops / experiments,
    )
