"""Stacks of what worked alone: a single move that beat the best it was tried on, without
being kept (its gain was real but not sure), is a *winner*; winners are stacked onto the best two
or three at a time, the largest summed gain first. Gains do not simply add up (rag + info_gain
+ a repetition penalty scored below rag + the penalty alone, measured on SmolLM2), so every
stack is an experiment of its own."""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from itertools import combinations

from orchestrator.researchers.base import LogView, Proposal
from orchestrator.researchers.cost import estimates
from orchestrator.researchers.moves import (
    Move,
    canonical,
    lineage,
    same,
    serves,
    touches,
    valid,
)

MAX_WINNERS = 5  # stacks are drawn from the five largest single-move gains


def winners(log: LogView, moves: list[Move]) -> list[tuple[float, Move]]:
    """The single moves that beat the best they were tried on (a paired gain above zero on
    their keep gate) and that the best does not hold yet, largest gain first."""
    best = log.best_agent
    found: dict[str, tuple[float, Move]] = {}
    for exp, move, _ in lineage(log, moves):
        if exp.delta is None or exp.delta <= 0 or same(move.apply(copy.deepcopy(best)), best):
            continue
        gain = max(exp.delta, found.get(move.hypothesis, (0.0, move))[0])
        found[move.hypothesis] = (gain, move)
    return sorted(found.values(), key=lambda pair: -pair[0])


def untried_stacks(
    log: LogView, moves: list[Move], avoid: set[str], k: int, taken: Sequence[Proposal] = ()
) -> list[Proposal]:
    """Up to `k` untried stacks of winners onto the best: two or three winners that touch
    different levers, the largest summed gain first."""
    found = [(g, m) for g, m in winners(log, moves) if m.lever_class not in avoid]
    tried = {canonical(e.agent) for e in log.experiments if e.agent}
    tried |= {canonical({**log.best_agent, **p.agent_patch}) for p in taken}
    best = log.best_agent
    expected = estimates(log, moves, log.keep_gate_cases)
    combos = [c for size in (2, 3) for c in combinations(found[:MAX_WINNERS], size)]
    combos.sort(key=lambda c: -sum(g for g, _ in c))
    proposals: list[Proposal] = []
    for combo in combos:
        touched = [touches(m, best) for _, m in combo]
        if any(a & b for a, b in combinations(touched, 2)):
            continue  # two moves of one lever: the later would undo the earlier
        agent = copy.deepcopy(best)
        for _, move in combo:
            agent = move.apply(agent)
        if canonical(agent) in tried or not serves(agent, log.feature) or not valid(agent):
            continue
        tried.add(canonical(agent))
        gains = ", ".join(f"{g:+.3f}" for g, _ in combo)
        top_gain, top = max(combo, key=lambda pair: pair[0])
        # pre-registered: the largest single gain (gains do not add up); the cost factors do
        # multiply, on the best's measured seconds
        first = expected[combo[0][1].hypothesis]
        others = math.prod(expected[m.hypothesis].factor for _, m in combo[1:])
        proposals.append(
            Proposal(
                hypothesis="Stacking what worked alone: "
                + "; and ".join(m.hypothesis for _, m in combo),
                method=f"Each of these moves beat the best it was tried on ({gains} on its "
                f"keep gate) without being kept; together on the best ({log.best_id}). Gains "
                "do not simply add up: the stack is measured.",
                lever_class=top.lever_class,
                agent_patch={"levers": agent["levers"]},
                lever_code=next((m.lever_code for _, m in combo if m.lever_code), None),
                lever_filename=next((m.lever_filename for _, m in combo if m.lever_filename), None),
                predicted_delta=round(top_gain, 4),
                predicted_seconds=round(first.seconds * others, 1) if first.seconds else None,
            )
        )
        if len(proposals) == k:
            break
    return proposals
