"""No training task is a near-duplicate of a ruler task (see ruler.embeddings.NEAR_DUPLICATE)."""

from __future__ import annotations

import numpy as np
import pytest

from ruler.embeddings import NEAR_DUPLICATE, one_word_swap, slot_mask, task_similarity
from ruler.loader import TRAINING_POOL, load_ruler

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tasks():
    ruler = load_ruler()
    assert (ruler.path / TRAINING_POOL).is_file(), f"{ruler.path / TRAINING_POOL} is missing"
    return [c.task for c in ruler.cases.values()], [c.task for c in ruler.training_pool()]


def test_the_threshold_catches_known_near_duplicates():
    pairs = [
        ("plan a trip to Paris", "plan a trip to Rome"),
        ("plan a trip to Paris", "plan a weekend trip to Rome"),
        ("plan a trip to Paris", "plan a vacation in Paris"),
        ("learn conversational Japanese", "learn conversational Spanish"),
    ]
    for a, b in pairs:
        assert task_similarity([a], [b])[0, 0] >= NEAR_DUPLICATE, (a, b)
    assert slot_mask("pay off $18,000 of credit card debt") == "pay off X of credit card debt"
    assert one_word_swap("renovate a small bathroom", "renovate a small kitchen")


def test_training_pool_is_sizeable_and_disjoint(tasks):
    ruler_tasks, pool_tasks = tasks
    pool = load_ruler().training_pool()
    assert len(pool) >= 150 and len({c.id for c in pool}) == len(pool)
    assert all(len(c.gold.questions) == 7 for c in pool)
    assert not set(ruler_tasks) & set(pool_tasks)


def test_no_training_task_is_a_near_duplicate_of_a_ruler_task(tasks):
    ruler_tasks, pool_tasks = tasks
    scores = task_similarity(ruler_tasks, pool_tasks)
    order = np.argsort(-scores, axis=None)[:5]
    top = [
        (float(scores.flat[k]), ruler_tasks[k // len(pool_tasks)], pool_tasks[k % len(pool_tasks)])
        for k in order
    ]
    print("closest ruler/training pairs:", *(f"{s:.3f} {a!r} ~ {b!r}" for s, a, b in top), sep="\n")
    assert top[0][0] < NEAR_DUPLICATE, top[0]
    swaps = [(a, b) for a in ruler_tasks for b in pool_tasks if one_word_swap(a, b)]
    assert not swaps
