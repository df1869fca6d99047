"""A tiny random model (SmolLM2's tokenizer) so trainer plumbing tests stay fast."""

from __future__ import annotations

import pytest

from levers.training.tiny import make_tiny_model


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> str:
    return make_tiny_model(tmp_path_factory.mktemp("tiny-model"))
