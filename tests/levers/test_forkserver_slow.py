"""The fork server on the real model: a child forked after the weights were loaded generates
(torch's thread pool is not inherited half-started: no deadlock), with exactly the text a
spawned worker writes under greedy decoding, and the server imported no lever."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from levers import forkserver
from levers.config import BASELINE_AGENT, Decoding
from levers.forkserver import FORKSERVER_ENV, close_servers
from levers.pipeline import close_pipelines, run_once
from models.registry import available_models

pytestmark = pytest.mark.slow

MODEL = "local:smollm2-135m"
TASKS = [
    {"id": "a", "task": "plan a trip to Paris"},
    {"id": "b", "task": "organise a birthday party for my sister"},
]


@pytest.fixture(autouse=True)
def clean() -> Iterator[None]:
    close_pipelines()
    close_servers()
    yield
    close_pipelines()
    close_servers()


def texts(mode: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv(FORKSERVER_ENV, mode)
    config = BASELINE_AGENT.model_copy(
        update={"model": MODEL, "decoding": Decoding(temperature=0.0, max_tokens=48)}
    )
    reply = run_once(config.model_dump(mode="json"), TASKS, None, None, timeout=600)
    return [run["text"] for run in reply["runs"]]


def test_a_forked_child_generates_what_a_spawned_worker_does(monkeypatch) -> None:
    if MODEL not in {i.spec for i in available_models() if i.available}:
        pytest.skip("SmolLM2 is not installed (autoresearch models install smollm2)")
    forked = texts("auto", monkeypatch)
    server = forkserver._servers[MODEL]
    assert server.ready["lever_modules"] == []
    assert server.ready["weights"].startswith(MODEL)
    spawned = texts("off", monkeypatch)
    assert forked == spawned and all(forked)
