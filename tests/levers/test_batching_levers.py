"""Every built-in lever's calls go to the model batched over the cases, round by round
(issue 26, faster gates): N cases of one task make exactly the batches one case makes, each N
times as large (cut at the batcher's 32), so no stage of a multi-call lever runs case by case."""

from __future__ import annotations

import pytest

from levers.config import AgentConfig, LeverSpec
from levers.registry import lever_classes
from levers.runner import run_agent
from models.registry import get_model
from ruler.plan import Plan
from ruler.records import Case

MAX_BATCH = 32
MODES = {"multi_call": [{"mode": "decompose"}, {"mode": "overgenerate"}]}
SETUPS = [
    (name, params)
    for name in sorted(lever_classes())
    if name != "adapter"  # needs a trained adapter; one call, as the prompt lever
    for params in MODES.get(name, [{}])
]


@pytest.fixture
def batch_sizes(monkeypatch) -> list[int]:
    model = get_model("fake:planner")
    sizes: list[int] = []
    original = model.generate_batch

    def spy(batch, options):
        sizes.append(len(batch))
        return original(batch, options)

    monkeypatch.setattr(model, "generate_batch", spy)
    return sizes


def run(name: str, params: dict, copies: int, sizes: list[int]) -> list[int]:
    sizes.clear()
    cases = [
        Case(id=f"c{i}", task="plan a trip to Paris", gold=Plan(title="", questions=[]))
        for i in range(copies)
    ]
    levers = [LeverSpec(name="prompt"), LeverSpec(name=name, params=params)]
    runs = run_agent(AgentConfig(model="fake:planner", levers=levers), cases)
    assert not any(r.failed for r in runs), runs[0].error
    return list(sizes)


def batched(rounds: list[int], copies: int) -> list[int]:
    """The batches `copies` cases make when each round of one case goes out as one batch."""
    out = []
    for calls in rounds:
        total = calls * copies
        out += [min(MAX_BATCH, total - start) for start in range(0, total, MAX_BATCH)]
    return out


@pytest.mark.parametrize(("name", "params"), SETUPS, ids=[f"{n}{p}" for n, p in SETUPS])
def test_each_round_of_calls_is_one_batch_over_the_cases(name, params, batch_sizes):
    one = run(name, params, 1, batch_sizes)
    assert one, f"{name} made no model call"
    assert run(name, params, 5, batch_sizes) == batched(one, 5)
